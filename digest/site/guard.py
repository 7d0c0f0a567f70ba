"""What every answer of the public site goes through: security headers, a cap on request bodies,
and an access log that never holds a token.

Uvicorn's own access log is off (`digest site` turns it off): it would write each request's path,
and the paths of unsubscribe and confirm links are the tokens themselves.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("digest.site.access")

MAX_BODY = 16 * 1024
"""The largest request body read: the forms need a few hundred bytes."""

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""Our own pages: no script at all, styles and images only from the site."""

ISSUE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""An issue's web copy is the email's HTML: inline styles (as every email has) and pictures
from the publishers' sites, still no script and no forms."""

_SECRET_PATH = re.compile(r"^/(unsubscribe|confirm|resubscribe)/[^/]+")

SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "interest-cohort=(), camera=(), microphone=(), geolocation=()",
}


def loggable_path(path: str) -> str:
    """The path as the access log may show it: a token in it becomes '…', a query is dropped."""
    return _SECRET_PATH.sub(lambda match: f"/{match.group(1)}/…", path.partition("?")[0])


class HideTokens(logging.Filter):
    """For uvicorn's own access log, should someone turn it on (`digest site` turns it off, and
    a uvicorn run by hand logs each request's path): the path as `loggable_path` shows it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], loggable_path(args[2]), *args[3:])
        return True


def hide_tokens_from_uvicorn() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, HideTokens) for existing in access.filters):
        access.addFilter(HideTokens())


class SiteGuard:
    """Adds the security headers (a Content-Security-Policy unless the app set its own), refuses
    bodies over MAX_BODY (413), and logs one line per request without query or token.

    The body is read whole before the app sees it (it is small, or refused), so an oversized one
    is refused as such, whatever the app would have said about the part it read first."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        length = Headers(scope=scope).get("content-length", "")
        declared_too_big = bool(length) and (not length.isdigit() or int(length) > MAX_BODY)
        body = None if declared_too_big else await _read_body(receive)
        if body is None:
            status = 413
            await PlainTextResponse("Request body too large", 413)(scope, receive, send)
            self._log(scope, status, started)
            return
        replayed = False

        async def replay() -> Message:
            """The body read above, then whatever the client does next (a disconnect)."""
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def guarded_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        try:
            await self.app(scope, replay, guarded_send)
        finally:
            self._log(scope, status, started)

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        client = scope.get("client")
        log.info(
            '%s "%s %s" %d %.0fms',
            client[0] if client else "-",
            scope["method"],
            loggable_path(scope["path"]),
            status,
            (time.perf_counter() - started) * 1000,
        )


async def _read_body(receive: Receive) -> bytes | None:
    """The request's whole body, or None once it passes MAX_BODY (or the client went away)."""
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
