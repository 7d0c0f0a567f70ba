"""Sign-ups on the site (double opt-in): the pending row with its proof of consent, at most one
confirmation email per address per interval, the confirmation, and forgetting sign-ups nobody
confirmed. The rest of the subscribers table (reading, leaving, imports) is `store.py`'s.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest.audience.columns import MAX_IP, MAX_NAME, MAX_REASON, address_key, one_of, upsert
from digest.audience.status import ACTIVE, LEFT, PENDING, Consent, Source
from digest.audience.store import new_row
from digest.state.schema import subscribers, utcnow


@dataclass(frozen=True, slots=True)
class Pruned:
    """What `prune_unconfirmed` removed."""

    deleted: int
    """Pending addresses (sign-ups never confirmed) deleted with everything about them."""
    cleared: int
    """Addresses that left whose unconfirmed sign-up details were cleared (the row stays)."""

    def line(self, days: float) -> str:
        return (
            f"Unconfirmed sign-ups older than {days:g} days: {self.deleted} pending addresses "
            f"deleted, {self.cleared} sign-up details cleared from addresses that left."
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


class SignUps:
    """The site's sign-ups in the subscribers table; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def prune_unconfirmed(self, *, older_than: dt.datetime) -> Pruned:
        """Forget sign-ups nobody confirmed whose last confirmation email (or, without one, the
        sign-up itself) is older than `older_than`: a pending address is deleted with its proof
        of consent (client address, user agent), which nobody consented to keep; an address that
        left keeps its row, so it is never mailed again, but loses the details of the sign-up it
        did not confirm. Confirmed consent is kept."""
        old = subscribers.c
        signed_up = sa.func.coalesce(old.confirm_sent_at, old.consent_at, old.created_at)
        unconfirmed = sa.and_(
            one_of(old.status, LEFT),
            old.consent_at.is_not(None),
            sa.or_(old.confirmed_at.is_(None), old.consent_at > old.confirmed_at),
            signed_up < older_than,
        )
        with self.engine.begin() as conn:
            deleted = conn.execute(
                sa.delete(subscribers).where(old.status == PENDING.value, signed_up < older_than)
            ).rowcount
            cleared = conn.execute(
                sa.update(subscribers)
                .where(unconfirmed)
                .values(
                    consent_at=None,
                    consent_ip="",
                    consent_user_agent="",
                    consent_url="",
                    consent_text="",
                    confirm_sent_at=None,
                    updated_at=utcnow(),
                )
            ).rowcount
        return Pruned(deleted=deleted, cleared=cleared)

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
        key = address_key(email)
        now = consent.at
        proof = {
            "consent_at": consent.at,
            "consent_ip": consent.ip[:MAX_IP],
            "consent_user_agent": consent.user_agent[:MAX_REASON],
            "consent_url": consent.url[:MAX_REASON],
            "consent_text": consent.text,
            "confirm_sent_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            created = conn.execute(
                upsert(conn)(subscribers)
                .values(**new_row(email.strip(), name, {}, PENDING, Source.FORM, now))
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
                    subscribers.c.email_key == address_key(email),
                    subscribers.c.confirm_sent_at == sent_at,
                )
                .values(confirm_sent_at=None)
            )

    def confirm(self, email: str, *, issued: dt.datetime, now: dt.datetime) -> Confirmation:
        """The person followed a confirmation link issued at `issued`: make them active, unless
        the link is older than their last leaving (a link from before they left never brings
        them back)."""
        issued = issued.astimezone(dt.UTC).replace(tzinfo=None)
        key = address_key(email)
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
