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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from digest.errors import DeliveryError
from digest.models import Subscriber
from digest.state.schema import FAILED, PENDING, SENT, deliveries, sends, subscribers, utcnow

ENQUEUE_BATCH = 5000
READ_BATCH = 500


_RECORD = (
    sa.update(deliveries)
    .where(deliveries.c.id == sa.bindparam("row_id"))
    .values(
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
            row = conn.execute(sa.select(sends).where(sends.c.issue == issue)).first()
        return SendState(**row._mapping) if row else None

    def begin_send(self, issue: str, subject: str) -> SendState:
        """Note that the send of `issue` began (kept when it began earlier, by any process)."""
        insert = _insert_ignoring(self.engine, sends, ["issue"])
        with self.engine.begin() as conn:
            conn.execute(insert.values(issue=issue, subject=subject, started_at=utcnow()))
        state = self.send_state(issue)
        assert state is not None
        return state

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

    def unsent(self, issue: str, *, retry_failed: bool = False) -> Iterator[Delivery]:
        """Every row still to send, in list order, read in small pages (keyset pagination), so
        memory stays flat and rows recorded meanwhile are never read twice."""
        statuses = [PENDING, FAILED] if retry_failed else [PENDING]
        last = 0
        while True:
            query = (
                sa.select(
                    deliveries.c.id, deliveries.c.email, deliveries.c.name, deliveries.c.attempts
                )
                .where(
                    deliveries.c.issue == issue,
                    deliveries.c.status.in_(statuses),
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

    def record(self, outcomes: Iterable[Outcome]) -> None:
        """Write outcomes in one committed transaction."""
        now = utcnow()
        values = [
            {
                "row_id": outcome.id,
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
            return
        with self.engine.begin() as conn:
            conn.execute(_RECORD, values)

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


class Recorder:
    """Group commit: sending threads hand over outcomes and wait until they are durable.

    One thread writes, batching whatever arrived while the previous transaction committed, so the
    database sees a few commits per connection round instead of one per message, and each sending
    thread still knows its message is recorded before it starts the next one."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._queue: queue.SimpleQueue[tuple[Outcome, threading.Event] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="digest-recorder", daemon=True)
        self._thread.start()

    def record(self, outcome: Outcome) -> None:
        """Return once `outcome` is committed; raise DeliveryError if the database failed."""
        done = threading.Event()
        self._queue.put((outcome, done))
        done.wait()
        if self._error is not None:
            raise DeliveryError(f"state database: cannot record outcomes ({self._error})")

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
                    self._ledger.record(outcome for outcome, _ in batch)
                except Exception as exc:
                    self._error = exc
            for _, done in batch:
                done.set()
