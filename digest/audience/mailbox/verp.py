"""VERP: each message's envelope sender names its delivery, so a bounce names its recipient even
when the report inside is mangled, or names an address the subscriber forwards to.

`bounces@example.com` becomes `bounces+<token>@example.com`. The token is 24 characters of
lowercase base32 holding the ledger's delivery id (5 bytes) and an HMAC-SHA256 of it under
DIGEST_SECRET_KEY cut to 80 bits, so nobody can forge a bounce for someone else's delivery. Base32
survives servers that change the case of local parts, and a fixed 24 characters leave 39 octets of
the 64 that RFC 5321 allows a local part for the address's own."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config validates DIGEST_BOUNCE_ADDRESS with this module
    from digest.config import Settings

TOKEN_LENGTH = 24
MAX_LOCAL_PART = 64 - len("+") - TOKEN_LENGTH
MAX_DELIVERY = 2**40 - 1
_ID_BYTES = 5
_MAC_BYTES = 10
_PURPOSE = b"digest-verp\x00"


def check_bounce_address(value: str) -> str:
    """The address as given, or ValueError saying why VERP cannot be built on it."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or not domain or any(char in value for char in ' \t\r\n<>"(),;:'):
        raise ValueError("expected a plain address such as bounces@example.com")
    if len(local.encode("utf-8")) > MAX_LOCAL_PART:
        raise ValueError(
            f"the part before @ may have at most {MAX_LOCAL_PART} characters: the VERP token adds "
            f"{TOKEN_LENGTH + 1} and a local part ends at 64"
        )
    return value.strip()


class Verp:
    """Builds and reads VERP envelope senders for one bounce address; several secrets may verify
    (the current one first signs), so a key rotation keeps old bounces readable."""

    __slots__ = ("_domain", "_local", "_macs")

    def __init__(self, bounce_address: str, secrets: Sequence[str]) -> None:
        local, _, domain = check_bounce_address(bounce_address).rpartition("@")
        self._local = local
        self._domain = domain.lower()
        self._macs = [
            hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256) for secret in secrets
        ]
        if not self._macs:
            raise ValueError("VERP needs a secret to sign with")

    @staticmethod
    def _sign(mac: hmac.HMAC, payload: bytes) -> bytes:
        copy = mac.copy()
        copy.update(payload)
        return copy.digest()[:_MAC_BYTES]

    def sender(self, delivery: int) -> str:
        """The envelope sender for the ledger row `delivery`."""
        if not 0 <= delivery <= MAX_DELIVERY:
            raise ValueError(f"delivery id {delivery} does not fit a VERP token")
        payload = delivery.to_bytes(_ID_BYTES, "big")
        token = base64.b32encode(payload + self._sign(self._macs[0], payload)).decode("ascii")
        return f"{self._local}+{token.lower()}@{self._domain}"

    def delivery(self, address: str) -> int | None:
        """The delivery a genuine VERP address names; None for any other address or a forgery."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        prefix = self._local + "+"
        if domain.lower() != self._domain or not local.lower().startswith(prefix.lower()):
            return None
        token = local[len(prefix) :]
        if len(token) != TOKEN_LENGTH:
            return None
        try:
            raw = base64.b32decode(token.upper())
        except (binascii.Error, ValueError):
            return None
        payload, signature = raw[:_ID_BYTES], raw[_ID_BYTES:]
        if not any(hmac.compare_digest(signature, self._sign(mac, payload)) for mac in self._macs):
            return None
        return int.from_bytes(payload, "big")

    def find(self, addresses: Iterable[str]) -> int | None:
        """The delivery named by the first genuine VERP address among `addresses`."""
        for address in addresses:
            delivery = self.delivery(address)
            if delivery is not None:
                return delivery
        return None


def verp_for(settings: Settings) -> Verp | None:
    """The VERP scheme of DIGEST_BOUNCE_ADDRESS, or None when it is not set; after a key rotation
    DIGEST_SECRET_KEY_PREVIOUS still reads bounces of mail signed before it."""
    if not settings.bounce_address:
        return None
    secrets = [settings.secret_key, settings.secret_key_previous]
    return Verp(
        settings.bounce_address,
        [key.get_secret_value() for key in secrets if key.get_secret_value()],
    )
