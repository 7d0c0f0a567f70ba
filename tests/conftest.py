"""Shared test fixtures. No test touches the user's real settings or state."""

from __future__ import annotations

import ipaddress
import os
import socket
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


FIXTURES = Path(__file__).parent / "fixtures"

pytest_plugins = [
    "tests.support.http_server",
    "tests.support.browser",
    "tests.support.postgres",
    "tests.support.imap_server",
]
"""Fixtures shared by many test modules: `http_server` (a live server on 127.0.0.1), `browser`
(one headless Chromium for the session), `postgres_server` (one PostgreSQL server for the session)
and `database_url` (a fresh state database, on SQLite and on PostgreSQL), and `imap_server` with
`imap_account` (Dovecot on 127.0.0.1)."""


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No name but localhost resolves, so a test building issues from real feeds never reaches
    past this machine, not even for DNS: remote picture checks and article fetches fail at once
    as unreachable (pictures are then kept unchecked), while servers on 127.0.0.1 still answer."""
    resolve = socket.getaddrinfo

    def loopback_only(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            if name == "localhost" or ipaddress.ip_address(name).is_loopback:
                return resolve(host, *args, **kwargs)  # type: ignore[arg-type]
        except ValueError:
            pass
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: tests resolve only loopback names")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
