"""Signed tokens: a link proves which address it was made for and what it may do, and nobody can
forge one.

A token is `<payload>.<mac>`, both base64url without padding. The MAC is HMAC-SHA256 under
DIGEST_SECRET_KEY over a purpose label and the payload, truncated to 128 bits: the label makes
the kinds of token not interchangeable (an unsubscribe link never confirms a sign-up, a confirm
link never unsubscribes). The payload travels in the token, so checking one needs no database
look-up. Checks compare MACs in constant time and try DIGEST_SECRET_KEY_PREVIOUS after the current
key, so links in mail sent before a key rotation keep working.

- Unsubscribe: the payload is the lower-cased address. Deterministic (a repeated message carries
  the same link) and never expiring (mail is read years later). The format is the one digest has
  always sent, so links in mail already delivered keep working.
- Confirm and form tokens are stamped: the payload is `<issued, ms since 1970>:<value>`, and a
  check gives the time it was issued, so the caller decides how old is too old.

Every unsubscribe token in a sent email pairs a known address with its MAC, so anyone holding one
can try secrets offline until one matches, and then forge a token for any address. The secret must
therefore be hard to guess, not only long: zxcvbn estimates the guesses a key needs (a repeated
character, a keyboard row or a word twice need few, whatever their length)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr
from zxcvbn import zxcvbn

from digest.config import Settings
from digest.errors import ConfigError

MIN_SECRET_LENGTH = 16
MIN_GUESSES_LOG10 = 14
"""zxcvbn's estimate for a key picked at random from 16 printable characters is 10^16; a long
passphrase of four uncommon words is about 10^20; `changeme-changeme-changeme` is 10^8."""
_ESTIMATED_CHARS = 72
"""zxcvbn's limit; a key whose first 72 characters are strong is strong."""
MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def check_secret(value: str, setting: str = "DIGEST_SECRET_KEY") -> None:
    """Raise ConfigError, saying how to make a good key, when `value` is too short or too easy
    to guess. The message never holds the key."""
    if len(value) < MIN_SECRET_LENGTH:
        problem = f"needs at least {MIN_SECRET_LENGTH} characters to sign unsubscribe links"
    else:
        estimate = zxcvbn(value[:_ESTIMATED_CHARS])
        if estimate["guesses_log10"] >= MIN_GUESSES_LOG10:
            return
        warning = estimate["feedback"]["warning"].rstrip(".")
        why = f"{warning[:1].lower()}{warning[1:]}"
        problem = f"too easy to guess ({why or 'too little variety'})"
    raise ConfigError(f"{setting}: {problem}; make one with `{MAKE_ONE}`")


MAX_TOKEN_LENGTH = 2048
"""Longer strings are refused unread: no genuine token comes near it (an address is at most 320)."""
_MAC_BYTES = 16


class Purpose(enum.StrEnum):
    """What a token may be used for; part of what its MAC covers."""

    UNSUBSCRIBE = "unsubscribe"
    CONFIRM = "confirm"
    FORM = "form"


@dataclass(frozen=True, slots=True)
class Stamped:
    """What a stamped token holds: its value and when it was issued (UTC)."""

    value: str
    issued: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret_value(secret: SecretStr | str) -> str:
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def _check_secret(value: str, setting: str) -> bytes:
    check_secret(value, setting)
    return value.encode("utf-8")


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class TokenSigner:
    """Signs with the current secret and checks against it and the previous ones; built once per
    run or app."""

    __slots__ = ("_keys",)

    def __init__(self, secret: SecretStr | str, previous: Iterable[SecretStr | str] = ()) -> None:
        keys = [_check_secret(_secret_value(secret), "DIGEST_SECRET_KEY")]
        for old in previous:
            keys.append(_check_secret(_secret_value(old), "DIGEST_SECRET_KEY_PREVIOUS"))
        self._keys = tuple(keys)

    @staticmethod
    def _mac(key: bytes, purpose: Purpose, payload: bytes) -> bytes:
        label = f"digest-{purpose.value}\x00".encode("ascii")
        return hmac.new(key, label + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def seal(self, purpose: Purpose, payload: bytes) -> str:
        """A token carrying `payload`, good for `purpose` only."""
        return f"{_b64(payload)}.{_b64(self._mac(self._keys[0], purpose, payload))}"

    def open(self, purpose: Purpose, token: str) -> bytes | None:
        """The payload of a genuine token for `purpose`; None when forged, altered, garbled or
        made for another purpose."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        encoded, _, signature = token.strip().partition(".")
        try:
            payload = _unb64(encoded)
            given = _unb64(signature)
        except (binascii.Error, ValueError):
            return None
        if not payload:
            return None
        # Every key is tried, so the time taken does not tell which one matched.
        found = [hmac.compare_digest(given, self._mac(key, purpose, payload)) for key in self._keys]
        return payload if any(found) else None

    # --- unsubscribe links ---

    def sign(self, email: str) -> str:
        """The unsubscribe token for `email`; addresses differing only in case get the same."""
        return self.seal(Purpose.UNSUBSCRIBE, email.strip().lower().encode("utf-8"))

    def verify(self, token: str) -> str | None:
        """The address a genuine unsubscribe token was made for, or None."""
        payload = self.open(Purpose.UNSUBSCRIBE, token)
        return _text(payload) if payload is not None else None

    # --- stamped tokens (confirm links, forms) ---

    def stamp(self, purpose: Purpose, value: str, now: dt.datetime) -> str:
        """A token carrying `value` and the time `now`, good for `purpose` only."""
        return self.seal(purpose, f"{_millis(now)}:{value}".encode())

    def unstamp(
        self, purpose: Purpose, token: str, *, now: dt.datetime, max_age: dt.timedelta
    ) -> Stamped | None:
        """What a genuine stamped token holds, unless it is older than `max_age` or from the
        future; None otherwise."""
        payload = self.open(purpose, token)
        text = _text(payload) if payload is not None else None
        if text is None:
            return None
        millis, colon, value = text.partition(":")
        if not colon or not millis.isascii() or not millis.isdigit() or len(millis) > 15:
            return None
        issued = dt.datetime.fromtimestamp(int(millis) / 1000, dt.UTC)
        if not dt.timedelta(minutes=-1) <= now - issued <= max_age:
            return None
        return Stamped(value=value, issued=issued)


def _text(payload: bytes) -> str | None:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


def signer(settings: Settings) -> TokenSigner:
    previous = settings.secret_key_previous
    return TokenSigner(settings.secret_key, [previous] if previous.get_secret_value() else [])


def verify_token(token: str, settings: Settings) -> str | None:
    """The address an unsubscribe token belongs to, or None when it is not genuine."""
    return signer(settings).verify(token)
