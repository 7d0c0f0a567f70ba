"""Email addresses as digest stores and sends to them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalise_address(value: str) -> str:
    """The address as mail goes to it; raises ValueError with email-validator's reason.

    No DNS look-ups: a list is checked for syntax only, and a dead domain shows up as a bounce."""
    try:
        result = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.ascii_email or result.normalized
