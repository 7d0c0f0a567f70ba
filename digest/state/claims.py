"""Claims: how any number of senders share one issue's rows without mailing anyone twice.

A sender claims pending rows in batches (DIGEST_SEND_BATCH) for a lease (DIGEST_SEND_LEASE). A row
is claimable when nobody holds it, or its holder's lease has run out, or its holder was a process
on this machine that no longer exists (`digest.state.workers`). Claiming is one statement, so two
senders can never take the same row:

- PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`; rows
  another sender is claiming at the same moment are skipped, not waited for;
- SQLite: the same statement without the lock clause, atomic under SQLite's single writer (every
  transaction takes the write lock at BEGIN, see `digest.state.engine`).

A live sender renews its whole lease with every claim and from its heartbeat, and keeps, on its
own monotonic clock, the time its lease ends (`Lease`): it hands a row to SMTP only while that end
is more than the handover margin away, so a message handed over is answered and recorded before
anyone else could take its row. An outcome is recorded only where the claim still holds
(`digest.state.ledger.Ledger.record`), which also clears it.

Where the source of the rows is (the subscriber list today) does not matter here: the ledger lists
them as pending rows of the issue, and claims only ever look at those.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digest.state.engine import retrying
from digest.state.ledger import Delivery
from digest.state.schema import PENDING, deliveries, send_workers, utcnow
from digest.state.workers import dead_here


class Lease:
    """When this sender's lease ends, by its own monotonic clock, and the rows it gave back.

    The database ends a lease `seconds` after a claim or renewal reached it; the sender counts
    from just before it sent that request, so its own end always comes first. Rows that were
    claimed but never handed over can be given back at any time (`give_back`)."""

    def __init__(self, seconds: float, margin: float) -> None:
        self.seconds = seconds
        self.margin = margin
        self._ends = 0.0
        self._returned: list[int] = []
        self._lock = threading.Lock()

    def renewed(self, requested_at: float) -> None:
        self._ends = requested_at + self.seconds

    def lapse(self) -> None:
        self._ends = 0.0

    @property
    def left(self) -> float:
        return self._ends - time.monotonic()

    def valid(self) -> bool:
        """Whether a row may be handed to SMTP now."""
        return self.left > self.margin

    def holds(self, key: int) -> bool:
        """Whether row `key` may be handed to SMTP now; if not, it is given back (the caller
        drops it unsent), to be released at the next claim."""
        if self.valid():
            return True
        self.give_back([key])
        return False

    def give_back(self, keys: Iterable[int]) -> None:
        with self._lock:
            self._returned.extend(keys)

    def take_returned(self) -> list[int]:
        with self._lock:
            returned, self._returned = self._returned, []
        return returned


def _clock(conn: Connection, seconds: float) -> tuple[sa.ColumnElement[dt.datetime], ...]:
    """(now, end of a lease taken now) as SQL. PostgreSQL serves senders on many machines, so
    leases follow its clock (in UTC, as every stored time); SQLite serves one machine, whose
    clock every sender shares."""
    if conn.dialect.name == "postgresql":
        now = sa.func.timezone("UTC", sa.func.now(), type_=sa.DateTime)
        return now, now + sa.literal(dt.timedelta(seconds=seconds), sa.Interval)
    moment = utcnow()
    return sa.literal(moment, sa.DateTime), sa.literal(
        moment + dt.timedelta(seconds=seconds), sa.DateTime
    )


class Claims:
    """One sender's claims on the pending rows of one issue."""

    def __init__(
        self, engine: Engine, issue: str, worker: str, *, batch: int, lease: Lease
    ) -> None:
        self.engine = engine
        self.issue = issue
        self.worker = worker
        self.batch = batch
        self.lease = lease
        self.batches = 0
        self._held: set[int] = set()
        """Rows claimed and not yet recorded or released, as far as this sender knows."""
        self._held_lock = threading.Lock()
        self._unsure = False
        self._lock = threading.Lock()
        """Claims and renewals one at a time, so the last to start is the last to finish and the
        lease's end is always that of the last one."""

    def claim(self) -> list[Delivery]:
        """Renew this sender's lease and claim up to a batch of free rows, in list order.

        Rows given back since the last claim are released first (they may come back in this
        batch), and so are the rows of dead processes on this machine. A dropped connection (a
        database restart) is tried again for up to a lease."""
        with self._lock:
            requested = time.monotonic()
            rows = retrying(self._claim_once, within=self.lease.seconds)
            self.lease.renewed(requested)
        if rows:
            self.batches += 1
        return rows

    def settle(self, keys: Iterable[int]) -> None:
        """Rows whose outcome is recorded (or that were released) are no longer held."""
        with self._held_lock:
            self._held.difference_update(keys)

    def _claim_once(self) -> list[Delivery]:
        returned = self.lease.take_returned()
        self.settle(returned)
        try:
            with self.engine.begin() as conn:
                if self._unsure:
                    self._release_unknown(conn)
                self._release(conn, returned)
                self._release_dead(conn)
                now, until = _clock(conn, self.lease.seconds)
                self._renew(conn, until)
                free = sa.or_(deliveries.c.claimed_by.is_(None), deliveries.c.lease_until < now)
                wanted = (
                    sa.select(deliveries.c.id)
                    .where(deliveries.c.issue == self.issue, deliveries.c.status == PENDING, free)
                    .order_by(deliveries.c.id)
                    .limit(self.batch)
                )
                if conn.dialect.name == "postgresql":
                    # Rows another sender is claiming right now are skipped, not waited for.
                    wanted = wanted.with_for_update(skip_locked=True)
                found = conn.execute(
                    sa.update(deliveries)
                    .where(deliveries.c.id.in_(wanted.scalar_subquery()))
                    .values(claimed_by=self.worker, lease_until=until)
                    .returning(
                        deliveries.c.id,
                        deliveries.c.email,
                        deliveries.c.name,
                        deliveries.c.attempts,
                    )
                ).all()
        except BaseException:
            # The commit may have gone through unseen: the next claim releases whatever this
            # sender holds in the database but does not know of.
            self._unsure = True
            raise
        self._unsure = False
        rows = sorted((Delivery(*row) for row in found), key=lambda row: row.id)
        with self._held_lock:
            self._held.update(row.id for row in rows)
        return rows

    def renew(self) -> None:
        """Extend the lease on every row this sender holds (its heartbeat)."""
        with self._lock:
            requested = time.monotonic()

            def once() -> None:
                with self.engine.begin() as conn:
                    self._renew(conn, _clock(conn, self.lease.seconds)[1])

            retrying(once, within=self.lease.seconds)
            self.lease.renewed(requested)

    def release(self) -> int:
        """Give back every row this sender holds and has not recorded (at the end of its part, or
        when stopped); return how many."""

        def once() -> int:
            with self.engine.begin() as conn:
                return int(
                    conn.execute(
                        sa.update(deliveries)
                        .where(
                            deliveries.c.claimed_by == self.worker,
                            deliveries.c.status == PENDING,
                        )
                        .values(claimed_by=None, lease_until=None)
                    ).rowcount
                )

        with self._lock:
            released = retrying(once, within=self.lease.seconds)
            self.lease.take_returned()
            self.lease.lapse()
            with self._held_lock:
                self._held.clear()
        return released

    def pending(self) -> int:
        """Rows of the issue still to send, held by anyone or by no one."""
        query = sa.select(sa.func.count()).where(
            deliveries.c.issue == self.issue, deliveries.c.status == PENDING
        )

        def once() -> int:
            with self.engine.connect() as conn:
                return int(conn.scalar(query) or 0)

        return retrying(once, within=self.lease.seconds)

    def _release_unknown(self, conn: Connection) -> None:
        with self._held_lock:
            held = list(self._held)
        mine = sa.and_(deliveries.c.claimed_by == self.worker, deliveries.c.status == PENDING)
        if held:
            mine = sa.and_(mine, deliveries.c.id.not_in(held))
        conn.execute(sa.update(deliveries).where(mine).values(claimed_by=None, lease_until=None))

    def _renew(self, conn: Connection, until: sa.ColumnElement[dt.datetime]) -> None:
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.claimed_by == self.worker, deliveries.c.status == PENDING)
            .values(lease_until=until)
        )

    def _release(self, conn: Connection, keys: list[int]) -> None:
        if keys:
            conn.execute(
                sa.update(deliveries)
                .where(
                    deliveries.c.id.in_(keys),
                    deliveries.c.claimed_by == self.worker,
                    deliveries.c.status == PENDING,
                )
                .values(claimed_by=None, lease_until=None)
            )

    @staticmethod
    def _release_dead(conn: Connection) -> None:
        dead = dead_here(conn)
        if not dead:
            return
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.claimed_by.in_(dead), deliveries.c.status == PENDING)
            .values(claimed_by=None, lease_until=None)
        )
        conn.execute(sa.delete(send_workers).where(send_workers.c.id.in_(dead)))
