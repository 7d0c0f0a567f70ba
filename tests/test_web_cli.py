"""`digest build --source <a page>` as a user runs it, for pages that cannot make an issue: what
reaches the terminal names the URL and the cause, in digest's words, and no issue is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.http_server import LocalServer


def build(source: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment.update(COLUMNS="200", DIGEST_FETCH_RETRY_DELAY="0.001")
    return subprocess.run(
        [sys.executable, "-m", "digest", "build", "--source", source],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_page_without_an_article_is_reported_in_digests_words_only(
    http_server: LocalServer, isolated_environment: Path
) -> None:
    """trafilatura logs "discarding data: None" for such a page; that is not for the user."""
    url = http_server.add(
        "/login.html",
        b"<!doctype html><html><head><title>Log in</title></head><body><form></form></body>",
        "text/html",
    )
    run = build(url, isolated_environment)

    assert run.returncode == 3
    lines = run.stderr.strip().splitlines()
    assert lines, run.stderr
    assert all(f"{url}: no article on the page" in line for line in lines), run.stderr
    assert "trafilatura" not in run.stderr
    assert not (isolated_environment / "issues").exists()
