"""Complaint feedback reports (ARF, RFC 5965), as mailbox providers' feedback loops send them when
a reader presses "This is spam": a multipart/report with a machine-readable
message/feedback-report part and the reported message (or its headers)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

COMPLAINT_TYPES = frozenset({"abuse", "fraud"})
"""Feedback types that are a reader's complaint; `not-spam`, `virus`, `auth-failure` and `other`
are reports of another kind."""


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    feedback_type: str
    recipients: tuple[str, ...]
    """Original-Rcpt-To and Removal-Recipient: whom the report says the message went to (many
    providers leave them out or redact them)."""

    @property
    def is_complaint(self) -> bool:
        return self.feedback_type in COMPLAINT_TYPES


def _fields(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    return HeaderParser().parsestr(text)


def feedback_report(msg: Message) -> FeedbackReport | None:
    """The report's machine-readable part; None when `msg` is no feedback report."""
    for part in msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = _fields(part)
        kind = str(fields.get("Feedback-Type", "")).strip().lower()
        named = [
            str(value)
            for name in ("Original-Rcpt-To", "Removal-Recipient")
            for value in fields.get_all(name, [])
        ]
        addresses = tuple(address for _, address in getaddresses(named) if "@" in address)
        return FeedbackReport(feedback_type=kind or "unknown", recipients=addresses)
    return None
