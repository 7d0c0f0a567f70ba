"""Unsubscribe requests sent to the List-Unsubscribe mailto address.

A mail client following `mailto:news@example.com?subject=unsubscribe%20<token>` sends the token in
the subject; a person may paste it on a line of the body, and a `DIGEST_UNSUBSCRIBE_MAILTO` such as
`unsubscribe+{token}@example.com` puts it in the address. A token inside a link does not count,
nor one on a quoted line: a reply to an issue quotes its footer, and is no request to leave."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from digest.audience.mailbox.evidence import recipient_addresses, token_words

_STANDALONE = re.compile(r"[A-Za-z0-9_.~-]{16,}")
_PUNCTUATION = "<>()[]{}\"'.,;:!"
MAX_BODY_BYTES = 64_000


def _body_lines(msg: Message) -> Iterator[str]:
    for part in msg.walk():
        if part.get_content_type() != "text/plain" or part.get_filename():
            continue
        raw = part.get_payload(decode=True)
        if not isinstance(raw, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = raw[:MAX_BODY_BYTES].decode(charset, "replace")
        except LookupError:
            text = raw[:MAX_BODY_BYTES].decode("utf-8", "replace")
        for line in text.splitlines():
            if not line.lstrip().startswith(">"):
                yield line


def request_words(msg: Message, subject: str) -> list[str]:
    """Candidate tokens of an unsubscribe request, in the order they are worth trying."""
    words = list(token_words(subject))
    for address in recipient_addresses(msg):
        local = address.rpartition("@")[0]
        words.extend(piece for piece in local.split("+")[1:] if _STANDALONE.fullmatch(piece))
    for line in _body_lines(msg):
        for word in line.split():
            stripped = word.strip(_PUNCTUATION)
            if _STANDALONE.fullmatch(stripped):
                words.append(stripped)
    return list(dict.fromkeys(words))
