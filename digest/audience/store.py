"""The subscribers in the state database: who gets the newsletter, who left, and the proof of
consent for who signed up.

Every address has one row, found by `email_key` (the address lower-cased), whatever case it was
written in. A status says what mail it gets:

- `active`: gets every issue; `pending`: signed up on the site, not confirmed yet (gets nothing);
- `unsubscribed`, `bounced`, `complained`: left, and gets nothing ever again, unless the person
  confirms a new sign-up themselves. No import, `digest subscribers add` or operator's list
  brings them back.

To stop mail to an address (a one-click unsubscribe, a bounce, a complaint), call `set_status`:

    change = SubscriberStore(engine).set_status("ada@example.com", BOUNCED, reason="550 5.1.1 …")
    if change is None: ...            # not a subscriber: nothing was changed
    elif change.changed: ...          # it was active or pending (or had left less strongly)

A complaint outranks a bounce, which outranks an unsubscribe: a later, weaker reason never hides a
stronger one, and leaving twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from digest.audience.csv_import import ListReport
from digest.errors import DigestError
from digest.models import Subscriber
from digest.state.schema import subscribers, utcnow

BATCH = 5000
READ_BATCH = 1000
MAX_NAME = 200
MAX_REASON = 500


class Status(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


PENDING, ACTIVE = Status.PENDING, Status.ACTIVE
UNSUBSCRIBED, BOUNCED, COMPLAINED = Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED
LEFT: tuple[Status, ...] = (UNSUBSCRIBED, BOUNCED, COMPLAINED)
"""The statuses of addresses that left, weakest first."""


class Source(enum.StrEnum):
    """How an address came onto the list."""

    IMPORT = "import"
    FORM = "form"
    CLI = "cli"


class Consent(BaseModel):
    """Proof that a person asked for the newsletter: when, from where, on which form, having
    been shown which words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: dt.datetime
    ip: str
    user_agent: str
    url: str
    text: str


class Record(BaseModel):
    """One subscriber as stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str
    fields: dict[str, str]
    status: Status
    source: Source
    reason: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    left_at: dt.datetime | None
    consent: Consent | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What `set_status` did to one address."""

    email: str
    before: Status
    after: Status

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class ImportReport:
    """What an import did; `skipped` counts rows left alone because the address had left."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(LEFT, 0))

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skipped_line(self) -> str:
        if not self.skipped_total:
            return ""
        parts = [f"{count} {status.value}" for status, count in self.skipped.items() if count]
        return (
            f"{self.skipped_total} skipped because the address left ({', '.join(parts)}); "
            "only the person can sign up again"
        )


class Request(enum.Enum):
    """What a sign-up on the site led to."""

    NEW = "new"
    """A new address, now pending: send the confirmation."""
    AGAIN = "again"
    """Pending or left, and no confirmation lately: send one."""
    TOO_SOON = "too soon"
    """A confirmation went out within DIGEST_CONFIRM_RESEND_MINUTES: send nothing."""
    ACTIVE = "active"
    """Already subscribed: send nothing."""

    @property
    def send(self) -> bool:
        return self in (Request.NEW, Request.AGAIN)


class Confirmation(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already active"
    STALE = "issued before the address left"
    UNKNOWN = "no such subscriber"


class AddressLeft(DigestError):
    """An operator tried to bring back an address that unsubscribed, bounced or complained."""


_STAYING = sa.or_(subscribers.c.status == ACTIVE.value, subscribers.c.status == PENDING.value)
"""Active or pending; spelled without IN, which executemany cannot expand."""


def _key(email: str) -> str:
    return email.strip().lower()


def _rank(status: Status) -> int:
    return LEFT.index(status) + 1 if status in LEFT else 0


def _fields_json(fields: dict[str, str]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _upsert(conn: Connection) -> Any:
    return sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert


def _record(row: sa.Row[Any]) -> Record:
    values = row._mapping
    consent = None
    if values["consent_at"] is not None:
        consent = Consent(
            at=values["consent_at"],
            ip=values["consent_ip"],
            user_agent=values["consent_user_agent"],
            url=values["consent_url"],
            text=values["consent_text"],
        )
    return Record(
        email=values["email"],
        name=values["name"],
        fields=json.loads(values["fields"] or "{}"),
        status=Status(values["status"]),
        source=Source(values["source"]),
        reason=values["reason"],
        created_at=values["created_at"],
        confirmed_at=values["confirmed_at"],
        left_at=values["left_at"],
        consent=consent,
    )


class SubscriberStore:
    """Reads and changes the subscribers table; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading ---

    def get(self, email: str) -> Record | None:
        query = sa.select(subscribers).where(subscribers.c.email_key == _key(email))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _record(row) if row else None

    def counts(self) -> dict[Status, int]:
        query = sa.select(subscribers.c.status, sa.func.count()).group_by(subscribers.c.status)
        with self.engine.connect() as conn:
            found = {Status(status): count for status, count in conn.execute(query)}
        return {status: found.get(status, 0) for status in Status}

    def export(self, status: Status | None = None) -> Iterator[Record]:
        """Every subscriber (of `status`, if given) in the order they were added, read in pages
        so a list of any size streams."""
        last = 0
        while True:
            query = sa.select(subscribers).where(subscribers.c.id > last)
            if status is not None:
                query = query.where(subscribers.c.status == status.value)
            query = query.order_by(subscribers.c.id).limit(READ_BATCH)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _record(row)
            last = rows[-1].id

    def left_among(self, emails: Iterable[str]) -> set[str]:
        """The lower-cased addresses among `emails` that unsubscribed, bounced or complained:
        rows listed for a send before they left are dropped, not sent."""
        keys = list({_key(email) for email in emails})
        if not keys:
            return set()
        query = sa.select(subscribers.c.email_key).where(
            subscribers.c.email_key.in_(keys),
            subscribers.c.status.in_([status.value for status in LEFT]),
        )
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def active(self) -> Iterator[Subscriber]:
        """Every active subscriber, in list order, streamed."""
        for record in self.export(ACTIVE):
            yield Subscriber(email=record.email, name=record.name, fields=record.fields)

    def without_left(self, rows: Iterable[Subscriber], report: ListReport) -> Iterator[Subscriber]:
        """`rows` less those whose address left (counted in `report.left`), checked in
        batches: what an import would make active."""
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            left = self.left_among(row.email for row in batch)
            report.left += sum(row.key in left for row in batch)
            yield from (row for row in batch if row.key not in left)

    # --- leaving ---

    def set_status(
        self,
        email: str,
        status: Status,
        *,
        reason: str,
        create: bool = False,
        now: dt.datetime | None = None,
    ) -> StatusChange | None:
        """Stop mail to `email` for `reason` (unsubscribed, bounced or complained).

        Returns None when the address is not a subscriber (nothing changes), unless `create`, which
        records it as having left (an unsubscribe link from mail sent to a list kept elsewhere)."""
        if status not in LEFT:
            raise ValueError(f"set_status only records leaving, not {status.value!r}")
        now = now or utcnow()
        key = _key(email)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(subscribers.c.email, subscribers.c.status).where(
                    subscribers.c.email_key == key
                )
            ).first()
            if row is None:
                if not create:
                    return None
                conn.execute(
                    _upsert(conn)(subscribers)
                    .values(**self._new_row(email.strip(), "", {}, status, Source.IMPORT, now))
                    .values(left_at=now, reason=reason[:MAX_REASON])
                    .on_conflict_do_nothing(index_elements=["email_key"])
                )
                return StatusChange(email=email.strip(), before=status, after=status)
            before = Status(row.status)
            if _rank(status) <= _rank(before):
                return StatusChange(email=row.email, before=before, after=before)
            values: dict[str, Any] = {"status": status.value, "reason": reason[:MAX_REASON]}
            values["updated_at"] = now
            if before not in LEFT:
                values["left_at"] = now
            conn.execute(
                sa.update(subscribers).where(subscribers.c.email_key == key).values(**values)
            )
        return StatusChange(email=row.email, before=before, after=status)

    def unsubscribe(self, email: str, *, reason: str) -> StatusChange:
        """The person asked to leave: recorded even for an address the table never held."""
        change = self.set_status(email, UNSUBSCRIBED, reason=reason, create=True)
        assert change is not None
        return change

    # --- joining: operators (import, add) ---

    @staticmethod
    def _new_row(
        email: str,
        name: str,
        fields: dict[str, str],
        status: Status,
        source: Source,
        now: dt.datetime,
    ) -> dict[str, Any]:
        return {
            "email_key": _key(email),
            "email": email,
            "name": name[:MAX_NAME],
            "fields": _fields_json(fields),
            "status": status.value,
            "source": source.value,
            "reason": "",
            "created_at": now,
            "updated_at": now,
        }

    def import_rows(
        self, rows: Iterable[Subscriber], *, source: Source = Source.IMPORT
    ) -> ImportReport:
        """Make every row `active`: new addresses are added, active and pending ones take the
        row's name and fields; an address that left is skipped and counted. Streams in batches,
        so memory stays flat at any list size."""
        report = ImportReport()
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            self._import_batch(batch, source, report)
        return report

    def _import_batch(self, batch: list[Subscriber], source: Source, report: ImportReport) -> None:
        now = utcnow()
        unique: dict[str, Subscriber] = {}
        for row in batch:
            unique.setdefault(row.key, row)
        report.duplicates += len(batch) - len(unique)
        values = [
            self._new_row(row.email, row.name, row.fields, ACTIVE, source, now)
            for row in unique.values()
        ]
        with self.engine.begin() as conn:
            known = {
                row.email_key: row
                for row in conn.execute(
                    sa.select(
                        subscribers.c.email_key,
                        subscribers.c.status,
                        subscribers.c.name,
                        subscribers.c.fields,
                    ).where(subscribers.c.email_key.in_(list(unique)))
                )
            }
            insert = _upsert(conn)(subscribers)
            statement = insert.on_conflict_do_update(
                index_elements=["email_key"],
                set_={
                    "name": insert.excluded.name,
                    "fields": insert.excluded.fields,
                    "status": ACTIVE.value,
                    "updated_at": insert.excluded.updated_at,
                },
                where=sa.and_(
                    _STAYING,
                    sa.or_(
                        subscribers.c.status != ACTIVE.value,
                        subscribers.c.name != insert.excluded.name,
                        subscribers.c.fields != insert.excluded.fields,
                    ),
                ),
            )
            conn.execute(statement, values)
        # Counted from what was read, not from rowcount, which psycopg does not add up over a
        # batch.
        for value in values:
            before = known.get(value["email_key"])
            if before is None:
                report.added += 1
            elif before.status in LEFT:
                report.skipped[Status(before.status)] += 1
            elif (before.status, before.name, before.fields) == (
                ACTIVE.value,
                value["name"],
                value["fields"],
            ):
                report.unchanged += 1
            else:
                report.updated += 1

    def add(self, email: str, *, name: str = "", source: Source = Source.CLI) -> bool:
        """Add (or keep) `email` as active; True when it was not active before. Raises
        AddressLeft for an address that left: only the person can bring it back."""
        record = self.get(email)
        if record is not None and record.status in LEFT:
            when = f" on {record.left_at:%Y-%m-%d}" if record.left_at else ""
            why = f" ({record.reason})" if record.reason else ""
            raise AddressLeft(
                f"{record.email}: {record.status.value}{when}{why}; not added again "
                "(only the person can sign up again, on the site)"
            )
        self.import_rows(
            [Subscriber(email=email.strip(), name=name or (record.name if record else ""))],
            source=source,
        )
        return record is None or record.status != ACTIVE

    def suppress(self, emails: Iterable[str], *, reason: str) -> int:
        """Record every address of a suppression list as unsubscribed, known or not; return how
        many were not already marked as having left. In batches, like an import."""
        changed = 0
        addresses = iter(emails)
        while batch := list(islice(addresses, BATCH)):
            now = utcnow()
            unique = {_key(email): email.strip() for email in batch}
            values = [
                self._new_row(email, "", {}, UNSUBSCRIBED, Source.IMPORT, now)
                | {"left_at": now, "reason": reason[:MAX_REASON]}
                for email in unique.values()
            ]
            with self.engine.begin() as conn:
                gone = set(
                    conn.scalars(
                        sa.select(subscribers.c.email_key).where(
                            subscribers.c.email_key.in_(list(unique)),
                            subscribers.c.status.in_([status.value for status in LEFT]),
                        )
                    )
                )
                insert = _upsert(conn)(subscribers)
                statement = insert.on_conflict_do_update(
                    index_elements=["email_key"],
                    set_={
                        "status": UNSUBSCRIBED.value,
                        "reason": insert.excluded.reason,
                        "left_at": insert.excluded.left_at,
                        "updated_at": insert.excluded.updated_at,
                    },
                    where=_STAYING,
                )
                conn.execute(statement, values)
            changed += len(unique) - len(gone)
        return changed

    # --- joining: people (the site's double opt-in) ---

    def request_confirmation(
        self,
        email: str,
        *,
        name: str,
        consent: Consent,
        resend_after: dt.timedelta,
    ) -> Request:
        """Note a sign-up on the site and whether a confirmation email may go out now: not to an
        active subscriber, and at most one per address per `resend_after` (the form must not be
        a way to mail-bomb someone). Safe against concurrent requests: the row's
        `confirm_sent_at` is claimed by one conditional write."""
        key = _key(email)
        now = consent.at
        proof = {
            "consent_at": consent.at,
            "consent_ip": consent.ip[:64],
            "consent_user_agent": consent.user_agent[:MAX_REASON],
            "consent_url": consent.url[:MAX_REASON],
            "consent_text": consent.text,
            "confirm_sent_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            created = conn.execute(
                _upsert(conn)(subscribers)
                .values(**self._new_row(email.strip(), name, {}, PENDING, Source.FORM, now))
                .values(**proof)
                .on_conflict_do_nothing(index_elements=["email_key"])
                .returning(subscribers.c.id)
            ).first()
            if created is not None:
                return Request.NEW
            claimed = conn.execute(
                sa.update(subscribers)
                .where(
                    subscribers.c.email_key == key,
                    subscribers.c.status != ACTIVE.value,
                    sa.or_(
                        subscribers.c.confirm_sent_at.is_(None),
                        subscribers.c.confirm_sent_at <= now - resend_after,
                    ),
                )
                .values(**proof, **({"name": name[:MAX_NAME]} if name else {}))
            ).rowcount
            if claimed:
                return Request.AGAIN
            status = conn.scalar(
                sa.select(subscribers.c.status).where(subscribers.c.email_key == key)
            )
        return Request.ACTIVE if status == ACTIVE.value else Request.TOO_SOON

    def release_confirmation(self, email: str, sent_at: dt.datetime) -> None:
        """The confirmation email could not be sent: let the person ask again at once."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(subscribers)
                .where(
                    subscribers.c.email_key == _key(email),
                    subscribers.c.confirm_sent_at == sent_at,
                )
                .values(confirm_sent_at=None)
            )

    def confirm(self, email: str, *, issued: dt.datetime, now: dt.datetime) -> Confirmation:
        """The person followed a confirmation link issued at `issued`: make them active, unless
        the link is older than their last leaving (a link from before they left never brings
        them back)."""
        issued = issued.astimezone(dt.UTC).replace(tzinfo=None)
        key = _key(email)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(subscribers.c.status, subscribers.c.left_at).where(
                    subscribers.c.email_key == key
                )
            ).first()
            if row is None:
                return Confirmation.UNKNOWN
            if row.status == ACTIVE.value:
                return Confirmation.ALREADY
            if row.left_at is not None and issued <= row.left_at:
                return Confirmation.STALE
            conn.execute(
                sa.update(subscribers)
                .where(subscribers.c.email_key == key)
                .values(
                    status=ACTIVE.value,
                    source=Source.FORM.value,
                    confirmed_at=now,
                    left_at=None,
                    reason="confirmed on the site",
                    updated_at=now,
                )
            )
        return Confirmation.CONFIRMED
