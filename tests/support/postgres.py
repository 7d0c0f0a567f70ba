"""A real PostgreSQL server for the tests, and the fixture that runs state tests on both backends.

`PostgresServer` runs Debian's PostgreSQL (`apt-get install postgresql`; `scripts/test` installs
it) from a cluster made with `initdb` in a temporary folder, listening on 127.0.0.1 at a free port
and on a socket in that folder. PostgreSQL refuses to run as root, so under root the folder
belongs to the `postgres` user (or `nobody`) and the server runs as that user through `runuser`.
The cluster trusts local connections and skips fsync: it holds test data only.

- `postgres_server` (session): one server for the whole run, started when a test first asks for
  it and stopped at the end (also when the run is interrupted).
- `database_url` (parametrised): a fresh, empty state database for each test, once on SQLite (a
  file in the test's folder) and once on PostgreSQL (a new database on the session's server);
  `engine` opens it.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.state.engine import open_engine
from digest.state.ledger import Ledger
from tests.support.smtp_server import free_port

USER = "digest"
START_TIMEOUT = 60


class PostgresMissing(RuntimeError):
    """PostgreSQL cannot be run here."""


def _bin_dir() -> Path:
    """The folder holding initdb and pg_ctl (Debian keeps them out of PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresMissing(
        "PostgreSQL is missing: install Debian's postgresql (apt-get install postgresql; "
        "scripts/test does)"
    )


def _run_as() -> list[str]:
    """The command prefix that runs the server as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"]
    raise PostgresMissing(
        "running as root with no 'postgres' or 'nobody' user to run PostgreSQL as"
    )


class PostgresServer:
    """A throw-away PostgreSQL cluster; `with PostgresServer() as server:` starts and stops it."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.prefix = _run_as()
        self.folder = Path(tempfile.mkdtemp(prefix="digest-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self._names = itertools.count(1)
        if self.prefix:
            user = self.prefix[2]
            shutil.chown(self.folder, user=user, group=pwd.getpwnam(user).pw_gid)
        self._as_owner(
            self.bin / "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def _as_owner(self, *command: str | Path) -> None:
        result = subprocess.run(
            [*self.prefix, *map(str, command)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr or result.stdout}")

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                f"-c listen_addresses={self.host}",
                f"-c unix_socket_directories={self.folder}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
            ]
        )
        self._as_owner(
            self.bin / "pg_ctl",
            "start",
            "-w",
            "-t",
            str(START_TIMEOUT),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_owner(self.bin / "pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def restart(self) -> None:
        """Stop the server (dropping every connection) and start it again on the same port."""
        self.stop()
        self.start()

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    # --- databases ---

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@{self.host}:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        engine = sa.create_engine(
            self.url().replace("postgresql://", "postgresql+psycopg://"),
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
        )
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"state_{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}" STRATEGY = FILE_COPY')  # faster without fsync
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing what still connects to it."""
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session."""
    try:
        server = PostgresServer()
    except PostgresMissing as exc:
        pytest.fail(str(exc))
    atexit.register(server.remove)
    with server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state database: one run of the test on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on `database_url`, migrated."""
    engine = open_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def ledger(engine: sa.Engine) -> Ledger:
    """The ledger on `engine`."""
    return Ledger(engine)
