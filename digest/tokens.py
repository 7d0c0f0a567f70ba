"""Signed unsubscribe tokens: a link proves which address it was sent to, and nobody can forge one.

A token is `<address>.<mac>`, both base64url without padding. The address travels in the token so
the unsubscribe endpoint needs no database look-up, and the MAC (HMAC-SHA256 under
DIGEST_SECRET_KEY, truncated to 128 bits) detects any change. Tokens are deterministic, so a
repeated message carries the same link.

Every token in a sent email pairs a known address with its MAC, so anyone holding one can try
secrets offline until one matches, and then forge a token for any address. The secret must
therefore be hard to guess, not only long: zxcvbn estimates the guesses a key needs (a repeated
character, a keyboard row or a word twice need few, whatever their length)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

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
_PURPOSE = b"digest-unsubscribe\x00"
_MAC_BYTES = 16


def check_secret(value: str) -> None:
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
    raise ConfigError(f"DIGEST_SECRET_KEY: {problem}; make one with `{MAKE_ONE}`")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and verifies unsubscribe tokens with one secret; built once per run."""

    __slots__ = ("_mac",)

    def __init__(self, secret: SecretStr | str) -> None:
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        check_secret(value)
        self._mac = hmac.new(value.encode("utf-8"), _PURPOSE, hashlib.sha256)

    def _signature(self, address: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(address)
        return mac.digest()[:_MAC_BYTES]

    def sign(self, email: str) -> str:
        """The token for `email`; addresses differing only in case get the same token."""
        address = email.strip().lower().encode("utf-8")
        return f"{_b64(address)}.{_b64(self._signature(address))}"

    def verify(self, token: str) -> str | None:
        """The address a genuine token was made for; None when forged, altered or garbled."""
        encoded, _, signature = token.strip().partition(".")
        try:
            address = _unb64(encoded)
            given = _unb64(signature)
        except (binascii.Error, ValueError):
            return None
        if not address or not hmac.compare_digest(given, self._signature(address)):
            return None
        try:
            return address.decode("utf-8")
        except UnicodeDecodeError:
            return None


def signer(settings: Settings) -> TokenSigner:
    return TokenSigner(settings.secret_key)


def verify_token(token: str, settings: Settings) -> str | None:
    """The address an unsubscribe token belongs to, or None when it is not genuine."""
    return signer(settings).verify(token)
