"""What every `digest check` rule works on: the message taken apart once (`Email`), and what a
rule reports (`Finding`, one line each)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Literal

import lxml.html
from lxml.etree import ParserError, _Element
from pydantic import BaseModel, ConfigDict

from digest.config import Settings
from digest.models import Issue

Severity = Literal["error", "warning", "info"]

EXAMPLES = 3
_INVISIBLE = re.compile(r"[\s\u00a0\u034f\u200b-\u200f\u2060\ufeff]+")


class Finding(BaseModel):
    """One thing `digest check` noticed; printed as one line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    severity: Severity
    message: str

    @property
    def line(self) -> str:
        return f"{self.severity:<7} {self.rule}: {self.message}"


@dataclass(frozen=True)
class Email:
    """A message taken apart once for every rule."""

    issue: Issue
    raw: bytes
    message: EmailMessage
    html: str
    text: str
    tree: _Element | None
    unsubscribe_prefix: str
    """DIGEST_UNSUBSCRIBE_URL up to {token}: what every unsubscribe link starts with."""


Rule = Callable[[Email], Iterable[Finding]]


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    if body is None or not isinstance(body, EmailMessage):
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


def parse_email(issue: Issue, raw: bytes, settings: Settings) -> Email:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
    html = _part(message, "html")
    try:
        tree = lxml.html.document_fromstring(html) if html.strip() else None
    except ParserError:
        tree = None
    return Email(
        issue=issue,
        raw=raw,
        message=message,
        html=html,
        text=_part(message, "plain"),
        tree=tree,
        unsubscribe_prefix=settings.unsubscribe_url.split("{token}")[0],
    )


def finding(rule: str, severity: Severity, message: str) -> Finding:
    return Finding(rule=rule, severity=severity, message=message)


def examples(items: list[str]) -> str:
    shown = ", ".join(repr(shorten(item)) for item in items[:EXAMPLES])
    more = f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
    return shown + more


def shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str) -> str:
    return " ".join(_INVISIBLE.sub(" ", text).split())
