"""Email addresses as digest stores and sends to them."""

from __future__ import annotations

import functools
import re

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
)

_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9.-]+\Z")
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
DOMAINS_REMEMBERED = 65536


def _validated(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.ascii_email or result.normalized


@functools.lru_cache(maxsize=DOMAINS_REMEMBERED)
def _plain_domain(domain: str) -> str | None:
    """`domain` as email-validator writes it, or None when it refuses it; a list of a million
    rows has a few thousand domains, and checking one (IDNA tables, special-use names) is most
    of the cost of checking an address."""
    try:
        return _validated(f"a@{domain}").partition("@")[2]
    except ValueError:
        return None


def normalise_address(value: str) -> str:
    """The address as mail goes to it; raises ValueError with email-validator's reason.

    No DNS look-ups: a list is checked for syntax only, and a dead domain shows up as a bounce.
    The common shape (a dot-atom before the @, a plain ASCII host name after it) takes a short
    way that gives email-validator's answer with its domain check remembered per domain
    (tests/test_address.py compares the two on generated addresses); everything else goes
    through email-validator whole."""
    value = value.strip()
    local, at, domain = value.partition("@")
    if (
        at
        and "@" not in domain
        and DOT_ATOM_TEXT.match(local)
        and _PLAIN_DOMAIN.match(domain)
        and "xn--" not in domain.lower()
        and (plain := _plain_domain(domain)) is not None
        and len(value) <= EMAIL_MAX_LENGTH
    ):
        if local.lower() in _MAILBOX_NAMES:
            local = local.lower()
        return f"{local}@{plain}"
    return _validated(value)
