"""Bounce and complaint events in the state database: what the mailbox said about which
subscriber, once per message and address, and the counts `digest status` shows per issue.

An event names its issue when the report tells: a VERP address names the ledger row, and the
Message-ID of the copy of our message a report carries (`<YYYYMMDD.hash@domain>`) names the issue
when the ledger holds that Message-ID for the address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from digest.audience.mailbox.classify import Event
from digest.state.schema import bounce_events, deliveries

SOFT_BOUNCE_WINDOW = dt.timedelta(days=30)
_OUR_MESSAGE_ID = re.compile(r"^<(\d{4})(\d{2})(\d{2})\.[0-9a-f]{32}@[^<>@\s]+>$")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom an event concerns, and the issue it came back from when known."""

    email: str
    issue: str | None = None
    delivery: int | None = None


@dataclass(frozen=True, slots=True)
class BounceEvent:
    message_key: str
    recipient: Recipient
    kind: Event
    evidence: str
    received_at: dt.datetime


def delivery(conn: Connection, delivery_id: int) -> Recipient | None:
    """The address and issue of a ledger row (a VERP address names one)."""
    row = conn.execute(
        sa.select(deliveries.c.email, deliveries.c.issue).where(deliveries.c.id == delivery_id)
    ).first()
    return Recipient(row.email, row.issue, delivery_id) if row is not None else None


def issue_of(conn: Connection, email: str, message_ids: Iterable[str]) -> str | None:
    """The issue whose message to `email` had one of `message_ids`; None when none was ours."""
    for message_id in message_ids:
        match = _OUR_MESSAGE_ID.match(message_id)
        if match is None:
            continue
        issue = "-".join(match.groups())
        found = conn.execute(
            sa.select(deliveries.c.id).where(
                deliveries.c.issue == issue,
                deliveries.c.email_key == email.strip().lower(),
                deliveries.c.message_id == message_id,
            )
        ).first()
        if found is not None:
            return issue
    return None


def record(conn: Connection, event: BounceEvent) -> bool:
    """Store `event`; False when this message was already recorded for this address."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = (
        insert(bounce_events)
        .values(
            message_key=event.message_key,
            email_key=event.recipient.email.strip().lower(),
            email=event.recipient.email.strip(),
            kind=event.kind.value,
            issue=event.recipient.issue,
            delivery_id=event.recipient.delivery,
            evidence=event.evidence,
            received_at=event.received_at,
        )
        .on_conflict_do_nothing(index_elements=["message_key", "email_key"])
        .returning(bounce_events.c.id)
    )
    return conn.execute(statement).first() is not None


def soft_bounce_days(conn: Connection, email: str, now: dt.datetime) -> int:
    """On how many days of the last 30 `email` bounced for now; a server that reports one delay
    several times a day counts once that day."""
    moments = conn.scalars(
        sa.select(bounce_events.c.received_at).where(
            bounce_events.c.email_key == email.strip().lower(),
            bounce_events.c.kind == Event.TEMPORARY.value,
            bounce_events.c.received_at > now - SOFT_BOUNCE_WINDOW,
        )
    )
    return len({moment.date() for moment in moments})


def counts_by_issue(engine: Engine) -> dict[str, dict[str, int]]:
    """issue -> event kind -> how many, for every issue a bounce or complaint named."""
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(bounce_events.c.issue, bounce_events.c.kind, sa.func.count())
            .where(bounce_events.c.issue.is_not(None))
            .group_by(bounce_events.c.issue, bounce_events.c.kind)
        )
        for issue, kind, count in rows:
            counts.setdefault(issue, {})[kind] = count
    return counts


def status_lines(engine: Engine, limit: int = 10) -> list[str]:
    """For `digest status`: the bounces and complaints of the newest issues that had any."""
    counts = counts_by_issue(engine)
    lines = []
    for issue in sorted(counts, reverse=True)[:limit]:
        kinds = counts[issue]
        lines.append(
            f"  {issue}: {kinds.get(Event.PERMANENT.value, 0)} permanent bounces, "
            f"{kinds.get(Event.TEMPORARY.value, 0)} temporary, "
            f"{kinds.get(Event.COMPLAINT.value, 0)} complaints"
        )
    return ["Bounces and complaints by issue (digest mailbox):", *lines] if lines else []
