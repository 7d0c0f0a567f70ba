"""Who a bounce says could not be reached, for good or for now.

The reading is flufl.bounce's (GNU Mailman's detectors): RFC 3464 delivery status notifications
and the formats of Postfix, Exim, qmail, Sendmail, Exchange, GroupWise, Yahoo and others. One fix
on top: flufl.bounce 6.0 keeps a heuristically found address only when its domain matches
`[a-z0-9._]+`, which has no hyphen, so a bounce for anyone at t-online.de or agence-forbin.com
named nobody. When flufl.bounce finds no one, its SimpleMatch and SimpleWarning patterns run
again with a domain check that allows hyphens."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.iterators import body_line_iterator, typed_subpart_iterator
from email.message import Message

from flufl.bounce import all_failures
from flufl.bounce._detectors import simplematch, simplewarning

log = logging.getLogger(__name__)

_ADDRESS = re.compile(
    rb"^[\x21-\x3d\x3f\x41-\x7e]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$",
    re.IGNORECASE,
)
SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
"""DSN actions that report no failure (RFC 3464 2.3.3)."""
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mdaemon|mmdf)$", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|failed|has failed|problem|notification)|returned mail|"
    r"mail (delivery )?(error|warning|failed|system|subsystem)|failure notice|non-?delivery|"
    r"not be delivered|"
    r"delivery report|unzustellbar|nicht zustellbar|non remis|onbestelbaar|no entregado",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Failures:
    """Recipients a bounce reports; an address both delayed and failed counts as failed."""

    temporary: frozenset[str]
    permanent: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.temporary or self.permanent)


def _decoded(addresses: frozenset[bytes]) -> frozenset[str]:
    return frozenset(address.decode("ascii").strip("<>") for address in addresses if address)


def _heuristic(patterns: list, msg: Message) -> frozenset[str]:
    """flufl.bounce's SimpleMatch loop, with an address check that allows hyphens in domains."""
    found: set[bytes] = set()
    for start, end, address in patterns:
        seen = False
        for line in body_line_iterator(msg):
            seen = seen or bool(start.search(line))
            if not seen:
                continue
            if match := address.search(line):
                if match.group("addr"):
                    found.add(simplematch._quopri_decode(match.group("addr")))
            elif end.search(line):
                break
        if found:
            break
    return _decoded(frozenset(item for item in found if _ADDRESS.match(item)))


def failures(msg: Message) -> Failures:
    """The recipients `msg` reports as failed; empty when it is no bounce it can read."""
    try:
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # a detector tripping over a malformed message
        log.debug("flufl.bounce could not read the message: %s: %s", type(exc).__name__, exc)
        temporary = permanent = frozenset()
    if not temporary and not permanent:
        permanent = _heuristic(simplematch.PATTERNS, msg)
        temporary = frozenset() if permanent else _heuristic(simplewarning.PATTERNS, msg)
        return Failures(frozenset(temporary), frozenset(permanent))
    failed = _decoded(permanent)
    return Failures(_decoded(temporary) - failed, failed)


def _dsn_actions(msg: Message) -> set[str]:
    """The Action of every recipient a delivery status notification reports on."""
    actions = set()
    for part in typed_subpart_iterator(msg, "message", "delivery-status"):
        blocks = part.get_payload() if isinstance(part, Message) else None
        for block in blocks if isinstance(blocks, list) else []:
            action = str(block.get("Action", "")).strip().lower()
            if action:
                actions.add(action.split()[0].rstrip(";"))
    return actions


def reports_failure(msg: Message) -> bool:
    """A DSN says some delivery failed for good, though its recipient fields may be unreadable."""
    return "failed" in _dsn_actions(msg)


def looks_like_bounce(msg: Message, subject: str, sender: str) -> bool:
    """A report of a failed or delayed delivery by its form, its sender or its subject, though it
    may name nobody we can read; a notice of success (a DSN saying delivered, relayed or
    expanded), an auto-reply or a person's message is none of these."""
    if msg.get_content_type() == "multipart/report" and (
        msg.get_param("report-type", "", header="content-type").lower() == "delivery-status"
    ):
        actions = _dsn_actions(msg)
        return not actions or not actions <= SUCCESS_ACTIONS
    local = sender.rpartition("@")[0] if "@" in sender else sender
    return not sender or bool(_BOUNCE_SENDER.match(local) or _BOUNCE_SUBJECT.search(subject))
