"""What one message in the mailbox is, and whom it concerns: a bounce (permanent or temporary), a
complaint, an unsubscribe request, or none of these (left alone).

Who a message concerns is read from the strongest evidence it holds: a signed VERP envelope
address (the delivery it bounced), then a signed token in the List-Unsubscribe header of the copy
of our message it carries, then the addresses the report names. Signed evidence cannot be forged;
the named addresses can, by anyone who can send mail to the mailbox, which is why they only ever
apply to addresses that are subscribers."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from digest.audience.mailbox import arf, bounces, evidence, mailto
from digest.audience.mailbox.verp import Verp

TokenReader = Callable[[str], str | None]
"""A signed unsubscribe token -> the address it was made for; None when not genuine."""


class Kind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"


class Event(StrEnum):
    """What happened to one address."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True, slots=True)
class Target:
    """One address an event concerns: named directly, or through a delivery (VERP) whose ledger
    row holds the address."""

    event: Event
    address: str | None = None
    delivery: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Kind
    targets: tuple[Target, ...] = ()
    message_ids: tuple[str, ...] = ()
    """Message-IDs of the original message a report is about, to tell which issue it was."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Readers:
    """The keys to signed evidence: VERP addresses (when DIGEST_BOUNCE_ADDRESS is set) and
    unsubscribe tokens."""

    unsubscribe: TokenReader
    verp: Verp | None = None

    def delivery(self, addresses: Iterable[str]) -> int | None:
        return self.verp.find(addresses) if self.verp is not None else None

    def token_address(self, words: Iterable[str]) -> str | None:
        for word in words:
            if address := self.unsubscribe(word):
                return address
        return None


def parse(raw: bytes) -> Message:
    """The message as flufl.bounce reads it (the compat32 policy)."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _signed_target(
    event: Event, msg: Message, original: Message | None, readers: Readers
) -> Target | None:
    """The recipient that signed evidence names: a VERP address the message was delivered to or
    the original was sent from, or a token in the original's List-Unsubscribe header."""
    addresses = evidence.recipient_addresses(msg)
    if original is not None:
        addresses += [str(value) for value in original.get_all("Return-Path", [])]
    delivery = readers.delivery(addresses)
    if delivery is not None:
        return Target(event, delivery=delivery)
    if original is not None:
        address = readers.token_address(evidence.list_unsubscribe_words(original))
        if address is not None:
            return Target(event, address=address)
    return None


def _complaint(
    report: arf.FeedbackReport,
    msg: Message,
    original: Message | None,
    readers: Readers,
    ids: tuple[str, ...],
) -> Verdict:
    if not report.is_complaint:
        return Verdict(Kind.OTHER, detail=f"a feedback report of type {report.feedback_type}")
    signed = _signed_target(Event.COMPLAINT, msg, original, readers)
    if signed is not None:
        return Verdict(Kind.COMPLAINT, (signed,), ids, "signed")
    named = list(report.recipients)
    if not named and original is not None:
        named = evidence.recipient_addresses(original)
    targets = tuple(Target(Event.COMPLAINT, address=address) for address in dict.fromkeys(named))
    if not targets:
        return Verdict(Kind.OTHER, detail="a complaint that names no recipient")
    return Verdict(Kind.COMPLAINT, targets, ids, "named")


def _bounce(
    msg: Message,
    original: Message | None,
    readers: Readers,
    ids: tuple[str, ...],
) -> Verdict | None:
    failed = bounces.failures(msg)
    looks = bool(failed) or bounces.looks_like_bounce(
        msg, evidence.header_text(msg, "Subject"), evidence.sender_address(msg)
    )
    if not looks:
        return None
    permanent = bool(failed.permanent) or bounces.reports_failure(msg)
    event = Event.PERMANENT if permanent else Event.TEMPORARY
    verp = readers.delivery(evidence.recipient_addresses(msg))
    if verp is not None:
        return Verdict(Kind.BOUNCE, (Target(event, delivery=verp),), ids, "VERP")
    if failed:
        targets = [Target(Event.PERMANENT, address=item) for item in sorted(failed.permanent)]
        targets += [Target(Event.TEMPORARY, address=item) for item in sorted(failed.temporary)]
        return Verdict(Kind.BOUNCE, tuple(targets), ids, "named")
    signed = _signed_target(event, msg, original, readers)
    if signed is not None:
        return Verdict(Kind.BOUNCE, (signed,), ids, "signed")
    return Verdict(Kind.OTHER, detail="a bounce that names no recipient digest can read")


def classify(raw: bytes, readers: Readers) -> Verdict:
    """Read one message; never raises on what a sender wrote."""
    msg = parse(raw)
    original = evidence.original(msg)
    ids = tuple(evidence.message_ids(original)) if original is not None else ()
    report = arf.feedback_report(msg)
    if report is not None:
        return _complaint(report, msg, original, readers, ids)
    verdict = _bounce(msg, original, readers, ids)
    if verdict is not None:
        return verdict
    subject = evidence.header_text(msg, "Subject")
    address = readers.token_address(mailto.request_words(msg, subject))
    if address is not None:
        return Verdict(Kind.UNSUBSCRIBE, (Target(Event.UNSUBSCRIBE, address=address),))
    return Verdict(Kind.OTHER, detail="not a bounce, complaint or unsubscribe request")
