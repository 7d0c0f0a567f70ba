"""Claims on SQLite and PostgreSQL: senders sharing one issue's rows never hold the same row, a
lease that ran out gives its rows to others and its late outcomes are refused, a dead process's
rows on this machine come back at once, and a lapsed lease stops the handover."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from digest.errors import DeliveryError
from digest.models import Subscriber
from digest.state.claims import Claims, Lease
from digest.state.engine import open_engine
from digest.state.ledger import Ledger, Outcome, Recorder
from digest.state.schema import PENDING, SENT, send_workers
from digest.state.workers import machine_id, register, senders

ISSUE = "2026-11-26"


def listed(ledger: Ledger, count: int) -> Ledger:
    ledger.enqueue(ISSUE, (Subscriber(email=f"u{n:04d}@example.com") for n in range(count)))
    return ledger


def claims(ledger: Ledger, *, batch: int = 50, lease: Lease | None = None) -> Claims:
    worker = register(ledger.engine, "send")
    return Claims(ledger.engine, ISSUE, worker, batch=batch, lease=lease or Lease(300, 1))


def test_senders_claiming_at_once_never_hold_the_same_row(ledger: Ledger) -> None:
    """Eight senders in threads, each with its own connection pool, claim and record until the
    list is done: every row is claimed exactly once."""
    listed(ledger, 2000)
    taken: Counter[int] = Counter()
    lock = threading.Lock()

    def sender() -> None:
        engine = open_engine(ledger.engine.url.render_as_string(hide_password=False))
        own = Ledger(engine)
        mine = claims(own, batch=37)
        while rows := mine.claim():
            with lock:
                taken.update(row.id for row in rows)
            outcomes = [Outcome(row.id, SENT, 1, "250 ok", "<m@x>") for row in rows]
            assert own.record(outcomes, mine.worker) == len(rows)
        engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 2000 and set(taken.values()) == {1}
    assert ledger.counts(ISSUE)[SENT] == 2000


def test_rows_under_a_live_lease_are_skipped_and_come_back_when_it_runs_out(
    ledger: Ledger,
) -> None:
    listed(ledger, 10)
    first = claims(ledger, batch=4, lease=Lease(1.0, 0.2))
    second = claims(ledger, batch=100)
    held = first.claim()
    assert [row.email for row in held] == [f"u{n:04d}@example.com" for n in range(4)]
    assert [row.id for row in second.claim()] == [row.id for row in ledger.unsent(ISSUE)][4:]
    assert second.claim() == []
    time.sleep(1.1)  # the first sender is silent: its lease runs out in the database
    assert not first.lease.valid()
    assert [row.id for row in second.claim()] == [row.id for row in held]
    late = [Outcome(row.id, SENT, 1, "250 ok", "<m@x>") for row in held]
    assert ledger.record(late, first.worker) == 0  # no longer its rows: refused
    assert ledger.record(late, second.worker) == 4


def test_a_sender_whose_lease_lapsed_gets_its_outcomes_refused_and_stops(ledger: Ledger) -> None:
    listed(ledger, 2)
    first = claims(ledger, lease=Lease(1.0, 0.2))
    rows = first.claim()
    time.sleep(1.1)
    assert claims(ledger).claim()  # someone else took them
    recorder = Recorder(ledger, first.worker)
    with pytest.raises(DeliveryError, match="no longer claimed by this sender"):
        recorder.record(Outcome(rows[0].id, SENT, 1, "250 ok", "<m@x>"))
    recorder.close()


def test_renewing_keeps_the_rows_and_a_lapsed_lease_gives_back_what_it_did_not_hand_over(
    ledger: Ledger,
) -> None:
    listed(ledger, 3)
    mine = claims(ledger, lease=Lease(1.5, 0.5))
    rows = mine.claim()
    for _ in range(3):
        time.sleep(0.5)
        mine.renew()
    assert claims(ledger).claim() == []  # renewed: still held
    assert mine.lease.holds(rows[0].id)
    time.sleep(1.1)  # no renewal: within the margin of the end, nothing more is handed over
    assert not mine.lease.holds(rows[1].id)
    assert mine.claim() == [rows[1]]  # given back, released, and free again (here, for itself)


def test_a_dead_process_on_this_machine_loses_its_rows_at_once(ledger: Ledger) -> None:
    listed(ledger, 5)
    dead = claims(ledger)
    dead.claim()
    with ledger.engine.begin() as conn:  # as if that process had registered and been killed
        pid = _pid_of_a_finished_process()
        conn.execute(
            sa.update(send_workers).where(send_workers.c.id == dead.worker).values(pid=pid)
        )
    rows = claims(ledger).claim()
    assert len(rows) == 5
    with ledger.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(send_workers)) == 1


def test_a_process_elsewhere_keeps_its_rows_until_its_lease_ends(ledger: Ledger) -> None:
    """Another machine's pids mean nothing here: only its lease can free its rows."""
    listed(ledger, 5)
    remote = claims(ledger, lease=Lease(1.0, 0.2))
    remote.claim()
    with ledger.engine.begin() as conn:
        conn.execute(
            sa.update(send_workers)
            .where(send_workers.c.id == remote.worker)
            .values(machine="another-boot:4026531836", pid=_pid_of_a_finished_process())
        )
    assert claims(ledger).claim() == []
    time.sleep(1.1)
    assert len(claims(ledger).claim()) == 5


def test_release_returns_every_unrecorded_row_and_status_lists_the_senders(
    ledger: Ledger,
) -> None:
    listed(ledger, 6)
    mine = claims(ledger, batch=4)
    rows = mine.claim()
    ledger.record([Outcome(rows[0].id, SENT, 1, "250 ok", "<m@x>")], mine.worker)
    assert mine.release() == 3
    assert ledger.counts(ISSUE) == {PENDING: 5, SENT: 1, "failed": 0}
    [me] = senders(ledger.engine, heard_within=60)
    assert me.pid == os.getpid() and me.machine == machine_id()
    assert me.role == "send" and me.line(me.heard_at).startswith(f"send pid {os.getpid()} on ")


def _pid_of_a_finished_process() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
