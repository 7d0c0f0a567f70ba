"""Opening the state database: its URL, the driver, per-backend settings, migrating on open.

SQLite (the default, `state.db` beside the issues folder) serves one machine; PostgreSQL serves
processes on many machines. Both are opened the same way and migrated by the same registry
(`digest.state.migrations`); where they behave differently, the code says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from digest.config import Settings
from digest.errors import ConfigError
from digest.state.migrations import migrate

log = logging.getLogger("digest.state")

POSTGRES_EXTRA = "pip install 'digest[postgres]'"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def state_url(settings: Settings) -> str:
    return settings.state_database_url


def parse_url(url: str) -> URL:
    """The URL with PostgreSQL's driver made explicit: a bare `postgresql://` (or `postgres://`)
    means psycopg 3, the driver `digest[postgres]` installs, not SQLAlchemy's psycopg2 default."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"DIGEST_STATE_URL: {url!r} is not a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine | sa.Connection) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling starts transactions late and never for DDL; turn it
    # off so `_sqlite_begin` decides (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: WAL may wait too
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # SQLite has one writer and no row locks: every transaction takes the write lock when it
    # begins, so a read followed by a write can never be overtaken by another process (which
    # SQLite reports as SQLITE_BUSY without waiting); PostgreSQL locks rows instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def connect(url: str, **options: Any) -> Engine:
    """An engine on the database at `url`, not migrated (see `open_engine`); `options` go to
    `sqlalchemy.create_engine`."""
    parsed = parse_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "postgresql":
        # A connection the server dropped (a restart, a failover) is replaced at checkout.
        options["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(parsed, **options)
    except ImportError as exc:
        raise _missing_driver(parsed, exc) from None
    except sa.exc.NoSuchModuleError:
        raise ConfigError(
            f"DIGEST_STATE_URL: no database driver {parsed.drivername!r} "
            "(use sqlite:///PATH or postgresql://USER@HOST/DATABASE)"
        ) from None
    if sqlite:
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _missing_driver(parsed: URL, exc: ImportError) -> ConfigError:
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        return ConfigError(
            "DIGEST_STATE_URL: PostgreSQL needs the psycopg driver, which is not installed: "
            f"{POSTGRES_EXTRA}"
        )
    return ConfigError(
        f"DIGEST_STATE_URL: the driver for {parsed.drivername!r} is not installed "
        f"({exc.name or exc})"
    )


def open_engine(url: str) -> Engine:
    """An engine on the state database at `url`, migrated to the current schema."""
    engine = connect(url)
    try:
        migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        shown = engine.url.render_as_string(hide_password=True)
        reason = " ".join(str(exc.orig or exc).split())
        raise ConfigError(f"DIGEST_STATE_URL: cannot open {shown} ({reason})") from None
    return engine


def state_engine(settings: Settings) -> Engine:
    """The engine of the state database (the scheduler keeps its job store there too), migrated."""
    return open_engine(state_url(settings))


T = TypeVar("T")
PG_RETRYABLE = ("08", "57P01", "57P02", "57P03", "40001", "40P01")
"""SQLSTATEs (or classes) worth another try: connection lost or refused, the server shutting
down or starting, a serialization failure or deadlock."""
MAX_PAUSE = 2.0


def is_transient(exc: BaseException) -> bool:
    """Whether the same transaction may succeed if tried again: the connection dropped (a server
    restart, a network blip), the server refused it for now, or SQLite stayed locked past its
    busy timeout. Not a missing table, a constraint, a syntax error."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if type(orig).__module__.startswith("psycopg"):
        if state is None:  # raised by the client: no connection, or it broke
            return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
        return state.startswith(PG_RETRYABLE)
    text = str(orig).lower()
    return isinstance(exc, sa.exc.OperationalError) and ("locked" in text or "busy" in text)


def retrying(action: Callable[[], T], *, within: float) -> T:
    """Run `action` (one whole transaction), again after a transient failure (`is_transient`),
    with growing pauses, for at most `within` seconds; then the last failure is raised."""
    deadline = time.monotonic() + within
    pause = 0.05
    warned = False
    while True:
        try:
            return action()
        except sa.exc.DBAPIError as exc:
            if not is_transient(exc) or time.monotonic() + pause > deadline:
                raise
            if not warned:
                log.warning("state database: %s; trying again", brief(exc))
                warned = True
        time.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)


def brief(exc: BaseException) -> str:
    """A database error as one short line, without its SQL."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
