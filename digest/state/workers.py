"""Who is sending: one row per sending process, so a claim names its holder, a dead holder's rows
can be taken back, and `digest status` shows each sender (host, pid, batches, rate, last heard).

A process that ended cleanly removes its row. One that was killed leaves it behind, and its claims
with it; they come back when its lease runs out. Sooner, when a sender on the same machine (same
kernel boot, same pid namespace) finds that the holder's pid no longer exists: a process that does
not exist holds nothing, and nothing on another machine can be judged that way.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection, Engine

from digest.state.schema import send_workers, utcnow

Role = Literal["send", "worker", "schedule"]
LEADS = ("send", "schedule")
"""The roles that start and lead a send; workers only join one while its lead is alive."""
FORGET_AFTER = dt.timedelta(days=7)
"""Rows of processes not heard from for this long are deleted (they hold no live lease)."""


def machine_id() -> str:
    """What makes pids comparable: the kernel's boot id and this process's pid namespace. Empty
    where unknown (no /proc), and then no process is ever judged dead by its pid."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}:{namespace}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


class SenderRow(BaseModel):
    """A sending process as `digest status` shows it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    role: str
    host: str
    pid: int
    machine: str
    issue: str | None
    started_at: dt.datetime
    joined_at: dt.datetime | None
    heard_at: dt.datetime
    batches: int
    sent: int
    failed: int

    @property
    def rate(self) -> float:
        """Messages per second since it joined its issue, up to when it was last heard."""
        if self.joined_at is None:
            return 0.0
        seconds = (self.heard_at - self.joined_at).total_seconds()
        return (self.sent + self.failed) / seconds if seconds > 0 else 0.0

    def line(self, now: dt.datetime) -> str:
        heard = max(0, round((now - self.heard_at).total_seconds()))
        doing = (
            f"issue {self.issue}: {self.batches} batches, {self.sent} sent, {self.failed} failed, "
            f"{self.rate:,.0f}/s"
            if self.issue
            else "waiting for a send"
        )
        return f"{self.role} pid {self.pid} on {self.host}: {doing}; heard {heard}s ago"


def register(engine: Engine, role: Role) -> str:
    """Add a row for this process; return its id (what its claims carry)."""
    worker = uuid.uuid4().hex
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.delete(send_workers).where(send_workers.c.heard_at < now - FORGET_AFTER))
        conn.execute(
            sa.insert(send_workers).values(
                id=worker,
                role=role,
                host=(socket.gethostname() or "localhost")[:255],
                pid=os.getpid(),
                machine=machine_id(),
                issue=None,
                started_at=now,
                joined_at=None,
                heard_at=now,
                batches=0,
                sent=0,
                failed=0,
            )
        )
    return worker


def heard(
    conn: Connection, worker: str, *, issue: str | None, batches: int, sent: int, failed: int
) -> None:
    """Note that `worker` is alive, on `issue`, with these counts since it joined it."""
    joined = sa.case(
        (send_workers.c.issue.is_distinct_from(issue), utcnow() if issue else None),
        else_=send_workers.c.joined_at,
    )
    conn.execute(
        sa.update(send_workers)
        .where(send_workers.c.id == worker)
        .values(
            issue=issue,
            joined_at=joined,
            heard_at=utcnow(),
            batches=batches,
            sent=sent,
            failed=failed,
        )
    )


def unregister(engine: Engine, worker: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(send_workers).where(send_workers.c.id == worker))


def dead_here(conn: Connection) -> list[str]:
    """Ids of registered processes on this machine that no longer exist."""
    here = machine_id()
    if not here:
        return []
    query = sa.select(send_workers.c.id, send_workers.c.pid).where(send_workers.c.machine == here)
    rows = conn.execute(query).all()
    return [worker for worker, pid in rows if pid != os.getpid() and not _exists(pid)]


def lead_alive(conn: Connection, issue: str, lease: float) -> bool:
    """Whether the process leading the send of `issue` was heard within a lease and, when it ran
    on this machine, still exists."""
    since = utcnow() - dt.timedelta(seconds=lease)
    query = sa.select(send_workers.c.machine, send_workers.c.pid).where(
        send_workers.c.issue == issue,
        send_workers.c.role.in_(LEADS),
        send_workers.c.heard_at >= since,
    )
    here = machine_id()
    return any(machine != here or not here or _exists(pid) for machine, pid in conn.execute(query))


def senders(engine: Engine, *, heard_within: float) -> list[SenderRow]:
    """The sending processes heard from in the last `heard_within` seconds, oldest first."""
    since = utcnow() - dt.timedelta(seconds=heard_within)
    query = (
        sa.select(send_workers)
        .where(send_workers.c.heard_at >= since)
        .order_by(send_workers.c.started_at)
    )
    with engine.connect() as conn:
        return [SenderRow(**row._mapping) for row in conn.execute(query)]
