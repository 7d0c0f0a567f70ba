"""A real threaded HTTP server on 127.0.0.1 for tests that fetch: it serves a folder, and
answers a few special paths that imitate servers misbehaving.

    /_status/<code>            that status (e.g. /_status/404)
    /_redirect/<n>/<path>      n redirects, then /<path>
    /_redirect-loop            redirects to itself forever
    /_slow                     never answers until the server stops (use a short timeout)
    /_endless                  an endless body without Content-Length (use a small size cap)
    /_big                      declares a 50 MB Content-Length, then streams like /_endless
    /_drip                     a body sent a byte at a time, 20 a second (for deadlines)
    /_hold/<name>              the first requests wait (up to 5 s) until `hold_until` are in
                               flight at once, then all answer at once; `max_in_flight`
                               says how many ever were

`LocalServer.add()` serves given bytes with given headers at a path, for one test; given a
list of `Canned` responses (`add_sequence`), it answers them in turn, then repeats the last.
A canned response with an `ETag` or `Last-Modified` header answers `304 Not Modified` to a
request that sends it back. Each request's path and headers are recorded in
`LocalServer.requests`.

The `http_server` fixture serves `tests/fixtures`; `internal_server` is a second one, another
origin.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CHUNK = b"x" * 65_536
ENDLESS_LIMIT = 200 * 1024 * 1024
"""Even an endless body ends somewhere, so a client that never hangs up cannot wedge a test run."""
SLOW_LIMIT = 30.0
HOLD_LIMIT = 5.0


@dataclass(frozen=True)
class Canned:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalServer:
    """A running server; `url(path)` gives an address on it."""

    base: str
    stopping: threading.Event
    canned: dict[str, list[Canned]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hold_until: int = 2
    in_flight: int = 0
    max_in_flight: int = 0
    held_open: bool = False
    flight: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/") -> str:
        return self.base + "/" + path.lstrip("/")

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve `body` at `path` (query strings ignored) and return its URL."""
        return self.add_sequence(
            path, [Canned(status, body, {"Content-Type": content_type, **(headers or {})})]
        )

    def add_sequence(self, path: str, responses: list[Canned]) -> str:
        """Answer requests for `path` with `responses` in turn, then the last one again."""
        self.canned["/" + path.lstrip("/")] = list(responses)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for seen, _ in self.requests if seen == "/" + path.lstrip("/"))


class _Handler(SimpleHTTPRequestHandler):
    server_info: LocalServer

    def __init__(self, *args: Any, server_info: LocalServer, **kwargs: Any) -> None:
        self.server_info = server_info
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output should show failures, not access logs."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server_info.requests.append((path, dict(self.headers.items())))
        if path in self.server_info.canned:
            self._canned(self.server_info.canned[path])
        elif match := re.fullmatch(r"/_status/(\d{3})", path):
            self._reply(int(match.group(1)), b"status page\n", {"Content-Type": "text/plain"})
        elif match := re.fullmatch(r"/_redirect/(\d+)/(.*)", path):
            hops, target = int(match.group(1)), match.group(2)
            location = f"/_redirect/{hops - 1}/{target}" if hops > 1 else f"/{target}"
            self._reply(302, b"", {"Location": location})
        elif path == "/_redirect-loop":
            self._reply(302, b"", {"Location": "/_redirect-loop"})
        elif path == "/_slow":
            self.server_info.stopping.wait(SLOW_LIMIT)
            self._reply(200, b"too late\n", {"Content-Type": "text/plain"})
        elif path in ("/_endless", "/_big"):
            self._stream(declared=path == "/_big")
        elif path == "/_drip":
            self._drip()
        elif path.startswith("/_hold/"):
            self._hold()
        else:
            super().do_GET()

    def _canned(self, responses: list[Canned]) -> None:
        canned = responses.pop(0) if len(responses) > 1 else responses[0]
        etag = canned.headers.get("ETag")
        modified = canned.headers.get("Last-Modified")
        if (etag and self.headers.get("If-None-Match") == etag) or (
            modified and self.headers.get("If-Modified-Since") == modified
        ):
            self._reply(304, b"", dict(canned.headers))
            return
        self._reply(canned.status, canned.body, canned.headers)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            while not self.server_info.stopping.wait(0.05):
                self.wfile.write(b"x")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _hold(self) -> None:
        info = self.server_info
        with info.flight:
            info.in_flight += 1
            info.max_in_flight = max(info.max_in_flight, info.in_flight)
            if info.in_flight >= info.hold_until:
                info.held_open = True
                info.flight.notify_all()
            info.flight.wait_for(lambda: info.held_open, timeout=HOLD_LIMIT)
        try:
            self._reply(200, b"held\n", {"Content-Type": "text/plain"})
        finally:
            with info.flight:
                info.in_flight -= 1

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """A client that gave up first (the slow and held pages are there to be given up on)
        is not an error worth a traceback in the test output."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, *, declared: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if declared:
            self.send_header("Content-Length", str(50 * 1024 * 1024))
        self.end_headers()
        sent = 0
        try:
            while sent < ENDLESS_LIMIT and not self.server_info.stopping.is_set():
                self.wfile.write(CHUNK)
                sent += len(CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def serve(directory: Path) -> Iterator[LocalServer]:
    """Run a server for `directory` on a free loopback port for the duration of the block."""
    stopping = threading.Event()
    info = LocalServer(base="", stopping=stopping)
    handler = partial(_Handler, directory=str(directory), server_info=info)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    info.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield info
    finally:
        stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A live server on 127.0.0.1 serving `tests/fixtures` (e.g. `/sources/wordpress.xml`)."""
    with serve(FIXTURES) as server:
        yield server


@pytest.fixture
def internal_server() -> Iterator[LocalServer]:
    """A second server on 127.0.0.1, on another port and so another origin: it stands for a
    service inside the operator's network that content must not make digest read."""
    with serve(FIXTURES) as server:
        yield server
