"""The `digest` command as a user runs it: a real process, real files, one-line errors."""

import os
import subprocess
import sys
from pathlib import Path


def digest(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment.update(env)
    environment["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_with_no_configuration_uses_the_sample(isolated_environment: Path) -> None:
    run = digest("build", "--date", "2026-11-26", cwd=isolated_environment)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "issues/2026-11-26/email.html"
    assert "Built 2026-11-26: 1 lead + 4 more" in run.stderr


def test_preview_builds_then_rerenders_and_prints_a_file_url(isolated_environment: Path) -> None:
    first = digest("preview", "--date", "2026-11-26", cwd=isolated_environment)
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip()
    assert url == (isolated_environment / "issues/2026-11-26/email.html").as_uri()
    issue_json = isolated_environment / "issues/2026-11-26/issue.json"
    issue_json.write_text(issue_json.read_text().replace('"subject": "', '"subject": "EDITED '))
    second = digest("preview", "--date", "2026-11-26", cwd=isolated_environment)
    assert second.returncode == 0, second.stderr
    assert "EDITED" in (isolated_environment / "issues/2026-11-26/email.eml").read_text()


def test_a_wrong_setting_is_one_line_and_exit_code_2(isolated_environment: Path) -> None:
    run = digest("build", cwd=isolated_environment, DIGEST_MORE_COUNT="lots")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: DIGEST_MORE_COUNT:")


def test_a_missing_source_names_it_and_writes_nothing(isolated_environment: Path) -> None:
    run = digest("build", "--source", "nowhere/feed.xml", cwd=isolated_environment)
    assert run.returncode == 3
    assert "nowhere/feed.xml" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (isolated_environment / "issues").exists() or not any(
        (isolated_environment / "issues").iterdir()
    )


def test_a_bad_date_is_a_usage_error(isolated_environment: Path) -> None:
    run = digest("build", "--date", "26/11/2026", cwd=isolated_environment)
    assert run.returncode == 2
    assert "YYYY-MM-DD" in run.stderr
