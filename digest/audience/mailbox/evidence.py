"""What a received message says about whom it concerns, read from its headers and from the copy of
our own message that bounces and complaint reports carry: the addresses it was delivered to (where
a VERP address shows), the signed tokens in the original's List-Unsubscribe, its Message-ID."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote

RECIPIENT_HEADERS = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "X-Delivered-To",
    "To",
    "Cc",
)
"""Where the address a message was delivered to shows: mail servers record the envelope
recipient in the first five; a bounce is also addressed (To) to the envelope sender it returns."""

ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers")
_WORD = re.compile(r"[A-Za-z0-9_.~-]{16,}")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


def header_text(msg: Message, name: str) -> str:
    """A header decoded from RFC 2047 words, on one line; empty when absent or undecodable."""
    value = msg.get(name)
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError):
        text = str(value)
    return " ".join(text.split())


def sender_address(msg: Message) -> str:
    return parseaddr(header_text(msg, "From"))[1]


def recipient_addresses(msg: Message) -> list[str]:
    """Every address in the headers that show where `msg` was delivered, in that order."""
    values = [str(value) for name in RECIPIENT_HEADERS for value in msg.get_all(name, [])]
    return [address for _, address in getaddresses(values) if "@" in address]


def original(msg: Message) -> Message | None:
    """The headers of the message a bounce or complaint report is about (its message/rfc822 or
    text/rfc822-headers part); None when the report carries neither."""
    for part in msg.walk():
        if part is msg or part.get_content_type() not in ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return payload[0] if payload and isinstance(payload[0], Message) else None
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes):
            return HeaderParser().parsestr(raw.decode("utf-8", "replace"))
    return None


def token_words(text: str) -> Iterator[str]:
    """Runs of characters a signed token is made of, long enough to be one, from text that may be
    URL-encoded (a List-Unsubscribe header, a mailto subject)."""
    yield from _WORD.findall(unquote(text))


def list_unsubscribe_words(headers: Message) -> list[str]:
    """Candidate tokens in the List-Unsubscribe header of our own message."""
    values = headers.get_all("List-Unsubscribe", [])
    return [word for value in values for word in token_words(str(value))]


def message_ids(headers: Message) -> list[str]:
    return _MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
