"""The subscribers in the state database: who gets the newsletter, who left, and the proof of
consent for who signed up (sign-ups on the site themselves are `signups.py`'s).

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
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.audience.columns import (
    BATCH,
    MAX_NAME,
    MAX_REASON,
    STAYING,
    address_key,
    fields_json,
    rank,
    upsert,
)
from digest.audience.csv_import import ListReport, ListRow
from digest.audience.importer import ImportReport, import_rows
from digest.audience.status import (
    ACTIVE,
    LEFT,
    PENDING,
    UNSUBSCRIBED,
    Consent,
    Source,
    Status,
)
from digest.errors import DigestError
from digest.models import Subscriber
from digest.state.schema import subscribers, utcnow

READ_BATCH = 1000


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


class AddressLeft(DigestError):
    """An operator tried to bring back an address that unsubscribed, bounced or complained."""


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


def new_row(
    email: str,
    name: str,
    fields: dict[str, str],
    status: Status,
    source: Source,
    now: dt.datetime,
) -> dict[str, Any]:
    """A new subscribers row, as every way in writes it."""
    return {
        "email_key": address_key(email),
        "email": email,
        "name": name[:MAX_NAME],
        "fields": fields_json(fields),
        "status": status.value,
        "source": source.value,
        "reason": "",
        "created_at": now,
        "updated_at": now,
    }


class SubscriberStore:
    """Reads and changes the subscribers table; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading ---

    def get(self, email: str) -> Record | None:
        query = sa.select(subscribers).where(subscribers.c.email_key == address_key(email))
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
        keys = list({address_key(email) for email in emails})
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

    def without_left(
        self,
        rows: Iterable[ListRow],
        report: ListReport,
        *,
        leaving: Callable[[list[ListRow]], object] = lambda _rows: None,
    ) -> Iterator[ListRow]:
        """What an import would make active, checked in batches: `rows` less those the list
        itself gives as pending or left (counted in `report.pending` and `report.left`, and
        the ones that left passed to `leaving`) and those whose address left (counted in
        `report.left`)."""
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            report.pending += sum(row.status is PENDING for row in batch)
            gone = [row for row in batch if row.status in LEFT]
            report.left += len(gone)
            if gone:
                leaving(gone)
            active = [row for row in batch if row.status is ACTIVE]
            left = self.left_among(row.email for row in active)
            report.left += sum(row.key in left for row in active)
            yield from (row for row in active if row.key not in left)

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
        key = address_key(email)
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
                    upsert(conn)(subscribers)
                    .values(**new_row(email.strip(), "", {}, status, Source.IMPORT, now))
                    .values(left_at=now, reason=reason[:MAX_REASON])
                    .on_conflict_do_nothing(index_elements=["email_key"])
                )
                return StatusChange(email=email.strip(), before=status, after=status)
            before = Status(row.status)
            if rank(status) <= rank(before):
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

    def import_rows(
        self, rows: Iterable[ListRow], *, source: Source = Source.IMPORT
    ) -> ImportReport:
        """See `digest.audience.importer.import_rows`."""
        return import_rows(self.engine, rows, source=source)

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
            [ListRow(email=email.strip(), name=name or (record.name if record else ""))],
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
            unique = {address_key(email): email.strip() for email in batch}
            values = [
                new_row(email, "", {}, UNSUBSCRIBED, Source.IMPORT, now)
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
                insert = upsert(conn)(subscribers)
                statement = insert.on_conflict_do_update(
                    index_elements=["email_key"],
                    set_={
                        "status": UNSUBSCRIBED.value,
                        "reason": insert.excluded.reason,
                        "left_at": insert.excluded.left_at,
                        "updated_at": insert.excluded.updated_at,
                    },
                    where=STAYING,
                )
                conn.execute(statement, values)
            changed += len(unique) - len(gone)
        return changed
