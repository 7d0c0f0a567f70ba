"""Shared test fixtures. No test touches the user's real settings or state."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests (tests/test_properties.py) are deterministic: the same examples on every run and
# machine, no example database. HYPOTHESIS_PROFILE=explore searches with fresh random inputs.
settings.register_profile(
    "digest",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    print_blob=False,
    # The autouse `isolated_environment` fixture is function-scoped; sharing it across the
    # examples of one test is what we want.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    parent=settings.get_profile("digest"),
    derandomize=False,
    max_examples=3_000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "digest"))


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test in an empty folder with no DIGEST_* variables: no `.env`, no real state."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test: a command run in a test
    (`digest …` through CliRunner) installs a handler on the stream the test captured, which
    is closed once the test ends, and a thread still logging later (a uvicorn server shutting
    down) then printed "I/O operation on closed file" into the output of the tests after it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


FIXTURES = Path(__file__).parent / "fixtures"

pytest_plugins = [
    "tests.support.network_guard",
    "tests.support.http_server",
    "tests.support.browser",
    "tests.support.postgres",
    "tests.support.imap_server",
]
"""Fixtures shared by many test modules: `network_guard` (autouse: a test that tries to reach
past loopback fails), `http_server` (a live server on 127.0.0.1), `browser`
(one headless Chromium for the session), `postgres_server` (one PostgreSQL server for the session)
and `database_url` (a fresh state database, on SQLite and on PostgreSQL) with `engine` (open on it),
and `imap_server` with
`imap_account` (Dovecot on 127.0.0.1)."""
