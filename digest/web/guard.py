"""What stands between the network and the editor's desk, as ASGI middleware, outermost first:

- headers: every response may be framed only by the desk itself (clickjacking) and runs no
  inline script; the email previews, which the desk frames, run no script at all;
- hosts: the desk answers only to its own names (a DNS-rebinding page cannot reach it under the
  attacker's name), plus DIGEST_SERVE_ALLOWED_HOSTS;
- password: HTTP Basic against DIGEST_SERVE_PASSWORD, and an address that keeps guessing wrong
  is locked out for a doubling time;
- body: a request body larger than MAX_BODY is refused (413) however it is sent, so a huge
  upload is never spooled to disk. The routes check the CSRF token before reading the body.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import logging
import math
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("digest.web")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_BODY = 1024 * 1024
"""Bytes: the edit form of a 50-story issue is a few dozen kilobytes."""

DESK_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
EMAIL_POLICY = (
    "default-src 'none'; img-src 'self' data: https: http:; style-src 'unsafe-inline' https:; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""An email as a mail client shows it: its own styles and pictures, never a script."""
_EMAIL_PREVIEW = re.compile(r"^/issues/[^/]+/email\.html$")


def is_loopback(host: str) -> bool:
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host header values the app answers to: the configured host, loopback names when it listens
    on loopback, this machine's names when it listens on every interface, and `extra`
    (DIGEST_SERVE_ALLOWED_HOSTS: say how it is reached, e.g. by its address on the network)."""
    names = {host, f"[{host}]" if ":" in host else host}
    if is_loopback(host):
        names.update(LOOPBACK_NAMES)
    elif host in ("0.0.0.0", "::"):
        names.update({socket.gethostname(), socket.getfqdn(), *LOOPBACK_NAMES})
    for name in extra:
        names.add(f"[{name}]" if ":" in name and not name.startswith("[") else name)
    return sorted(names)


class SecurityHeaders:
    """Adds the framing, script and referrer policies to every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = EMAIL_POLICY if _EMAIL_PREVIEW.match(scope["path"]) else DESK_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Frame-Options"] = "SAMEORIGIN"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class PasswordMiddleware:
    """HTTP Basic authentication against DIGEST_SERVE_PASSWORD (any user name).

    After FREE_FAILURES wrong passwords from one address, that address is refused (429, with
    Retry-After) for FIRST_LOCK seconds, doubling with each further wrong one up to MAX_LOCK; the
    right password resets the count. A request without credentials is not a failure: it is how a
    browser first asks."""

    FREE_FAILURES = 5
    FIRST_LOCK = 2.0
    MAX_LOCK = 300.0
    REMEMBERED = 10_000

    def __init__(self, app: ASGIApp, password: str) -> None:
        self.app = app
        self.password = password.encode("utf-8")
        self.failures: dict[str, _Failures] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else ""
        now = time.monotonic()
        record = self.failures.get(client)
        if record is not None and record.locked_until > now:
            wait = math.ceil(record.locked_until - now)
            response = PlainTextResponse(
                f"too many wrong passwords; try again in {wait} s",
                429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        given = self._given(scope)
        if given is None or not hmac.compare_digest(given, self.password):
            if given is not None:
                self._failed(client, now)
            response = PlainTextResponse(
                "password required",
                401,
                headers={"WWW-Authenticate": 'Basic realm="digest", charset="UTF-8"'},
            )
            await response(scope, receive, send)
            return
        self.failures.pop(client, None)
        await self.app(scope, receive, send)

    def _failed(self, client: str, now: float) -> None:
        if len(self.failures) >= self.REMEMBERED:
            self.failures = {k: v for k, v in self.failures.items() if v.locked_until > now}
        record = self.failures.setdefault(client, _Failures())
        record.count += 1
        beyond = record.count - self.FREE_FAILURES
        if beyond >= 0:
            lock = min(self.FIRST_LOCK * 2**beyond, self.MAX_LOCK)
            record.locked_until = now + lock
            log.warning(
                "%d wrong passwords from %s: refused for %.0f s", record.count, client, lock
            )

    @staticmethod
    def _given(scope: Scope) -> bytes | None:
        """The password of the request's Basic credentials; None when it has none."""
        scheme, _, encoded = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            _, _, given = base64.b64decode(encoded, validate=True).partition(b":")
        except ValueError:  # binascii.Error, or text that is not ASCII
            return b""
        return given


class BodyLimit:
    """Refuses a request body over `limit` bytes: at once when Content-Length says so, and as
    soon as a body sent without one (chunked) passes it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            response = PlainTextResponse(self._too_large(), 413, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, limited, send)

    def _too_large(self) -> str:
        return f"request body over {self.limit // 1024} KB refused"
