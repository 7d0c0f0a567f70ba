"""Shared test fixtures. No test touches the user's real settings or state."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test in an empty folder with no DIGEST_* variables: no `.env`, no real state."""
    import os

    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


FIXTURES = Path(__file__).parent / "fixtures"

pytest_plugins = ["tests.support.http_server", "tests.support.browser"]
"""Fixtures shared by many test modules: `http_server` (a live server on 127.0.0.1) and `browser`
(one headless Chromium for the session)."""
