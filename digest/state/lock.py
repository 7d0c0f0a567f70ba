"""One `digest schedule` per state database, released by the kernel or the server when it dies.

Two schedulers on one database would both send the day's issue, so the second refuses to start.
The lock must vanish with its process, even after SIGKILL or a power cut, or a crash would need
a human to clear it:
- SQLite: an exclusive `flock` on `<database>.schedule-lock` beside the database file; the
  kernel drops it when the process ends. The file also names the holder (pid, host, since).
- PostgreSQL: a session-level advisory lock on a connection kept open; the server drops it when
  the connection closes. The holder is named in the session's `application_name`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError

from digest.errors import ConfigError, DigestError
from digest.state.engine import connect, parse_url

ADVISORY_KEY = 0x6469676573740001
"""The PostgreSQL advisory lock id: "digest" in ASCII, then 1 (the scheduler)."""
_APPLICATION_PREFIX = "digest-schedule"


class LockHolder(BaseModel):
    """Who holds the lock, for the refusal message and `digest status`."""

    model_config = ConfigDict(extra="forbid")

    pid: int
    host: str
    since: dt.datetime

    @property
    def described(self) -> str:
        since = self.since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"pid {self.pid} on {self.host}, running since {since}"


def _me() -> LockHolder:
    return LockHolder(
        pid=os.getpid(), host=socket.gethostname() or "localhost", since=dt.datetime.now(dt.UTC)
    )


def _refusal(holder: LockHolder | None, where: str) -> DigestError:
    who = holder.described if holder else "its pid is not written yet"
    return DigestError(
        f"digest schedule is already running on this state database ({who}; {where}); "
        "stop it first, or point DIGEST_STATE_URL at another database"
    )


@contextmanager
def instance_lock(url: str) -> Iterator[LockHolder]:
    """Hold the scheduler's lock on the state database at `url`, or raise DigestError naming the
    process that holds it."""
    backend = parse_url(url).get_backend_name()
    if backend == "sqlite":
        with _file_lock(lock_file(url)) as holder:
            yield holder
    elif backend == "postgresql":
        with _advisory_lock(url) as holder:
            yield holder
    else:
        raise ConfigError(
            f"DIGEST_STATE_URL: digest schedule needs SQLite or PostgreSQL to keep one scheduler "
            f"per database, not {backend}"
        )


def lock_holder(url: str) -> LockHolder | None:
    """The process holding the scheduler's lock, or None when no scheduler runs."""
    backend = parse_url(url).get_backend_name()
    if backend == "sqlite":
        return _file_holder(lock_file(url))
    if backend == "postgresql":
        engine = connect(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return _advisory_holder(conn)
        finally:
            engine.dispose()
    return None


# --- SQLite: a lock file ---


def lock_file(url: str) -> Path:
    database = parse_url(url).database
    if database in (None, "", ":memory:"):
        raise ConfigError(
            "DIGEST_STATE_URL: digest schedule needs a database file, not an in-memory database"
        )
    return Path(database).resolve().with_name(Path(database).name + ".schedule-lock")


def _read(fd: int) -> LockHolder | None:
    try:
        return LockHolder.model_validate_json(os.pread(fd, 4096, 0))
    except (ValidationError, OSError):
        return None


@contextmanager
def _file_lock(path: Path) -> Iterator[LockHolder]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(_read(fd), f"lock file {path}") from None
        holder = _me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.model_dump_json().encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _file_holder(path: Path) -> LockHolder | None:
    """Probe with a shared lock, which conflicts only with a running scheduler's exclusive one."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd) or LockHolder(pid=0, host="?", since=dt.datetime.now(dt.UTC))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# --- PostgreSQL: an advisory lock on a connection kept open ---


def _split_key() -> tuple[int, int]:
    """pg_locks shows a bigint advisory key as (classid, objid): its high and low 32 bits."""
    return ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF


def _advisory_holder(conn: sa.Connection) -> LockHolder | None:
    classid, objid = _split_key()
    row = conn.execute(
        sa.text(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = :classid AND l.objid = :objid"
        ),
        {"classid": classid, "objid": objid},
    ).first()
    if row is None:
        return None
    name, since = row
    parts = dict(part.split("=", 1) for part in str(name).split()[1:] if "=" in part)
    try:
        return LockHolder(pid=int(parts["pid"]), host=parts["host"], since=since)
    except (KeyError, ValueError):
        return LockHolder(pid=0, host=str(name) or "?", since=since)


@contextmanager
def _advisory_lock(url: str) -> Iterator[LockHolder]:
    engine = connect(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not conn.execute(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_KEY))).scalar():
                raise _refusal(_advisory_holder(conn), "PostgreSQL advisory lock")
            holder = _me()
            label = f"{_APPLICATION_PREFIX} pid={holder.pid} host={holder.host}"[:63]
            conn.execute(sa.select(sa.func.set_config("application_name", label, False)))
            conn.commit()
            try:
                yield holder
            finally:
                with contextlib.suppress(sa.exc.SQLAlchemyError):
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_KEY)))
    finally:
        engine.dispose()
