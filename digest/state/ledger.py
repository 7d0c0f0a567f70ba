"""The ledger: one row per (issue, subscriber) with its outcome, so a send resumes exactly.

A row is `pending` until the SMTP server accepts its message (250 after DATA) and is then marked
`sent` in a committed transaction before that connection starts another message; a 5xx makes it
`failed`. A crash can therefore repeat at most the messages in flight (one per connection) whose
250 arrived but whose commit did not; they carry the same Message-ID, so a repeat is recognisable.

The rows live in the state database (`digest.state.engine`), in the tables of
`digest.state.schema`.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from digest.errors import DeliveryError
from digest.models import Subscriber
from digest.state.engine import retrying
from digest.state.schema import FAILED, PENDING, SENT, deliveries, sends, subscribers, utcnow
from digest.state.workers import lead_alive

ENQUEUE_BATCH = 5000
READ_BATCH = 500

NOTIFY_CHANNEL = "digest_sends"
"""PostgreSQL channel on which a lead announces a send, so waiting workers join at once."""


_RECORD = (
    sa.update(deliveries)
    .where(
        deliveries.c.id == sa.bindparam("row_id"),
        deliveries.c.claimed_by == sa.bindparam("worker"),
    )
    .values(
        claimed_by=None,
        lease_until=None,
        status=sa.bindparam("status"),
        attempts=deliveries.c.attempts + sa.bindparam("attempts"),
        last_reply=sa.bindparam("last_reply"),
        message_id=sa.bindparam("message_id"),
        updated_at=sa.bindparam("updated_at"),
        sent_at=sa.bindparam("sent_at"),
    )
)
"""Built once: constructing a statement costs more than SQLite takes to run it."""


def _insert_ignoring(engine: Engine, table: sa.Table, key: list[str]) -> sa.Insert:
    """An INSERT that skips rows whose `key` exists. Each dialect spells ON CONFLICT DO NOTHING
    with its own construct, though both databases accept the same SQL."""
    dialect_insert = sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=key)


@dataclass(frozen=True, slots=True)
class OpenSend:
    """A send in progress that workers may join: its issue and its stored message."""

    issue: str
    template: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A row waiting to be sent."""

    id: int
    email: str
    name: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one row; `status` is SENT or FAILED, or PENDING for a message a stop cut
    in flight (its attempt and reply are kept, and it is sent again)."""

    id: int
    status: str
    attempts: int
    reply: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Failure:
    email: str
    attempts: int
    reply: str


@dataclass(frozen=True, slots=True)
class SendState:
    issue: str
    subject: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class Ledger:
    """Reads and writes the deliveries of the state database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send_state(self, issue: str) -> SendState | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    sends.c.issue, sends.c.subject, sends.c.started_at, sends.c.finished_at
                ).where(sends.c.issue == issue)
            ).first()
        return SendState(**row._mapping) if row else None

    def begin_send(self, issue: str, subject: str) -> SendState:
        """Note that the send of `issue` began (kept when it began earlier, by any process)."""
        insert = _insert_ignoring(self.engine, sends, ["issue"])
        with self.engine.begin() as conn:
            conn.execute(insert.values(issue=issue, subject=subject, started_at=utcnow()))
        state = self.send_state(issue)
        assert state is not None
        return state

    def store_template(self, issue: str, template: str) -> None:
        """Keep the send's message (`MessageTemplate.stored`) for the workers that join it, and
        tell those waiting (PostgreSQL's NOTIFY, delivered when this transaction commits)."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(sends).where(sends.c.issue == issue).values(template=template))
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, issue)))

    def open_sends(self, lease: float) -> list[OpenSend]:
        """The sends a worker may join, oldest first: begun, not finished, with a stored message
        and a live lead (`digest.state.workers.lead_alive`)."""
        query = (
            sa.select(sends.c.issue, sends.c.template)
            .where(sends.c.finished_at.is_(None), sends.c.template.isnot(None))
            .order_by(sends.c.started_at)
        )
        with self.engine.connect() as conn:
            found = [OpenSend(issue, template) for issue, template in conn.execute(query)]
            return [send for send in found if lead_alive(conn, send.issue, lease)]

    def lead_present(self, issue: str, lease: float) -> bool:
        with self.engine.connect() as conn:
            return lead_alive(conn, issue, lease)

    def finish_if_done(self, issue: str) -> bool:
        """Mark the send finished when no row is pending; whoever sees it first does it."""
        if self.counts(issue)[PENDING]:
            return False
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(sends)
                .where(sends.c.issue == issue, sends.c.finished_at.is_(None))
                .values(finished_at=utcnow())
            )
        return True

    def finish_send(self, issue: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(sends).where(sends.c.issue == issue).values(finished_at=utcnow())
            )

    def enqueue(self, issue: str, subscribers: Iterable[Subscriber]) -> int:
        """Add a pending row per subscriber not yet listed for `issue`; return how many were added.

        A second row with the same address (in any case) is ignored here, by the unique key, which
        is how a list of any length is de-duplicated without holding it in memory."""
        # The ids of the rows added: rowcount is -1 for a batch on psycopg.
        insert = _insert_ignoring(self.engine, deliveries, ["issue", "email_key"]).returning(
            deliveries.c.id
        )
        added = 0
        rows = iter(subscribers)
        while batch := list(islice(rows, ENQUEUE_BATCH)):
            now = utcnow()
            values = [
                {
                    "issue": issue,
                    "email_key": subscriber.key,
                    "email": subscriber.email,
                    "name": subscriber.name[:200],
                    "status": PENDING,
                    "attempts": 0,
                    "last_reply": "",
                    "message_id": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for subscriber in batch
            ]
            with self.engine.begin() as conn:
                added += len(conn.execute(insert, values).all())
        return added

    def enqueue_active(self, issue: str) -> int:
        """Add a pending row for every active subscriber not yet listed for `issue`, in list
        order; return how many were added. One INSERT … SELECT: the list never passes through
        Python, so memory stays flat at any size."""
        now = utcnow()
        chosen = (
            sa.select(
                sa.literal(issue, sa.String),
                subscribers.c.email_key,
                subscribers.c.email,
                subscribers.c.name,
                sa.literal(PENDING, sa.String),
                sa.literal(0, sa.Integer),
                sa.literal("", sa.String),
                sa.literal("", sa.String),
                sa.literal(now, sa.DateTime),
                sa.literal(now, sa.DateTime),
            )
            .where(subscribers.c.status == "active")
            .order_by(subscribers.c.id)
        )
        columns = [
            "issue",
            "email_key",
            "email",
            "name",
            "status",
            "attempts",
            "last_reply",
            "message_id",
            "created_at",
            "updated_at",
        ]
        insert = _insert_ignoring(self.engine, deliveries, ["issue", "email_key"])
        with self.engine.begin() as conn:
            return conn.execute(insert.from_select(columns, chosen)).rowcount

    def reopen_failed(self, issue: str) -> int:
        """Make the failed rows of `issue` pending again (`digest send --retry-failed`), keeping
        their attempts and last reply; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.issue == issue, deliveries.c.status == FAILED)
                .values(status=PENDING, updated_at=utcnow())
            ).rowcount

    def unsent(self, issue: str) -> Iterator[Delivery]:
        """Every pending row, in list order, read in small pages (keyset pagination), so memory
        stays flat and rows recorded meanwhile are never read twice. For a single reader (the dry
        run); senders claim their rows instead (`digest.state.claims`)."""
        last = 0
        while True:
            query = (
                sa.select(
                    deliveries.c.id, deliveries.c.email, deliveries.c.name, deliveries.c.attempts
                )
                .where(
                    deliveries.c.issue == issue,
                    deliveries.c.status == PENDING,
                    deliveries.c.id > last,
                )
                .order_by(deliveries.c.id)
                .limit(READ_BATCH)
            )
            with self.engine.connect() as conn:
                page = [Delivery(*row) for row in conn.execute(query)]
            if not page:
                return
            yield from page
            last = page[-1].id

    def record(
        self, outcomes: Iterable[Outcome], worker: str, *, now: dt.datetime | None = None
    ) -> int:
        """Write the outcomes of rows claimed by `worker` in one committed transaction, clearing
        their claims; return how many were written. A row whose claim `worker` no longer holds is
        left as it is: it lost its lease, and its holder's word counts. `now` stamps the rows
        (`recorded_at` finds them by it)."""
        now = now or utcnow()
        values = [
            {
                "row_id": outcome.id,
                "worker": worker,
                "status": outcome.status,
                "attempts": outcome.attempts,
                "last_reply": outcome.reply[:1000],
                "message_id": outcome.message_id,
                "updated_at": now,
                "sent_at": now if outcome.status == SENT else None,
            }
            for outcome in outcomes
        ]
        if not values:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(_RECORD, values).rowcount

    def recorded_at(self, ids: list[int], stamp: dt.datetime) -> int:
        """How many of the rows `ids` an earlier `record(..., now=stamp)` wrote: after a commit
        whose answer was lost with the connection, it is known only by looking."""
        query = sa.select(sa.func.count()).where(
            deliveries.c.id.in_(ids),
            deliveries.c.updated_at == stamp,
            deliveries.c.claimed_by.is_(None),
        )
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def remove_pending(self, issue: str, email_keys: Iterable[str]) -> None:
        """Drop rows of addresses suppressed after they were listed, so they are never mailed."""
        keys = list(email_keys)
        if not keys:
            return
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(deliveries).where(
                    deliveries.c.issue == issue,
                    deliveries.c.status != SENT,
                    deliveries.c.email_key.in_(keys),
                )
            )

    def counts(self, issue: str) -> dict[str, int]:
        query = (
            sa.select(deliveries.c.status, sa.func.count())
            .where(deliveries.c.issue == issue)
            .group_by(deliveries.c.status)
        )
        with self.engine.connect() as conn:
            found = {status: count for status, count in conn.execute(query)}
        return {PENDING: 0, SENT: 0, FAILED: 0} | found

    def failures(self, issue: str, limit: int = 100) -> list[Failure]:
        query = (
            sa.select(deliveries.c.email, deliveries.c.attempts, deliveries.c.last_reply)
            .where(deliveries.c.issue == issue, deliveries.c.status == FAILED)
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Failure(*row) for row in conn.execute(query)]


class LeaseLost(Exception):
    """Outcomes arrived for rows this sender no longer held: something kept it from renewing its
    lease (a database out of reach for longer than DIGEST_SEND_LEASE), so it must stop."""


class Recorder:
    """Group commit: sending threads hand over outcomes and wait until they are durable; a row
    whose claim was lost stops the send (`LeaseLost`).

    One thread writes, batching whatever arrived while the previous transaction committed, so the
    database sees a few commits per connection round instead of one per message, and each sending
    thread still knows its message is recorded before it starts the next one."""

    def __init__(self, ledger: Ledger, worker: str, *, patience: float = 60.0) -> None:
        self._ledger = ledger
        self._worker = worker
        self._patience = patience
        """Seconds to keep trying through a dropped connection (a database restart)."""
        self._queue: queue.SimpleQueue[tuple[Outcome, threading.Event] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="digest-recorder", daemon=True)
        self._thread.start()

    def record(self, outcome: Outcome) -> None:
        """Return once `outcome` is committed; raise DeliveryError if the database failed."""
        self.submit(outcome)()

    def submit(self, outcome: Outcome) -> Callable[[], None]:
        """Hand `outcome` over; return a function that returns once it is committed (raising
        DeliveryError if the database failed), so the caller may do other work meanwhile."""
        done = threading.Event()
        self._queue.put((outcome, done))

        def wait() -> None:
            done.wait()
            if self._error is not None:
                raise DeliveryError(f"state database: cannot record outcomes ({self._error})")

        return wait

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        closing = False
        while not closing:
            item = self._queue.get()
            batch = []
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                closing = True
            if self._error is None and batch:
                try:
                    written = self._write([outcome for outcome, _ in batch])
                except Exception as exc:
                    self._error = exc
                else:
                    if written != len(batch):
                        self._error = LeaseLost(
                            f"{len(batch) - written} of {len(batch)} rows were no longer claimed "
                            "by this sender (its lease had run out)"
                        )
            for _, done in batch:
                done.set()

    def _write(self, outcomes: list[Outcome]) -> int:
        """One batch, tried again through a dropped connection; a try after one whose commit may
        have gone through counts the rows that commit wrote."""
        stamp = utcnow()
        tries = 0

        def once() -> int:
            nonlocal tries
            tries += 1
            written = self._ledger.record(outcomes, self._worker, now=stamp)
            if written == 0 and tries > 1:
                written = self._ledger.recorded_at([outcome.id for outcome in outcomes], stamp)
            return written

        return retrying(once, within=self._patience)
