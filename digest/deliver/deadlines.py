"""Deadlines for SMTP connections, which smtplib's timeout cannot give: it bounds each read, so a
relay that trickles a byte every few seconds would hold a connect or a transaction (and the send,
and a SIGTERM waiting for it) forever.

One watchdog thread per run keeps a deadline for each busy connection and, when one passes, cuts
that connection's socket from outside (`shutdown`): the call blocked on it fails at once, as if the
relay had hung up. Once the run is asked to stop, every deadline is at most `grace` seconds away.
"""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

STOP_POLL = 0.2
"""How often the watchdog looks for a stop request; a deadline further away than this does not
need to wake it, so arming one costs a lock and a dict entry."""

_GUARDS = threading.Lock()
"""Orders cutting a socket against closing it, so a cut never reaches a reused descriptor."""


class Connection(smtplib.SMTP):
    """smtplib's SMTP with a second handle on its socket (a `dup`, taken before any TLS wrap),
    through which another thread can cut it. Small writes go out at once (TCP_NODELAY): a
    pipelined sender writes a message's body, then its end and the next commands, then reads,
    which Nagle's algorithm would hold back until the server's delayed acknowledgement."""

    _guard: socket.socket | None = None
    _cut = False

    def connect(
        self, host: str = "localhost", port: int = 0, source_address: tuple[str, int] | None = None
    ) -> tuple[int, bytes]:
        """Connect once the watchdog can see us (smtplib connects in its constructor when given a
        host); TLS checks the certificate against `_host`, which only the constructor sets."""
        self._host = host
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with _GUARDS:
            self._guard = sock.dup()
            if self._cut:
                _shut(self._guard)
        return sock

    @property
    def was_cut(self) -> bool:
        """Whether the watchdog cut it: a reply read since may be a fragment (smtplib takes the
        "25" of a cut-off "250 OK" for a whole reply)."""
        return self._cut

    def cut(self) -> None:
        """End the connection from another thread; a call blocked on it fails at once."""
        with _GUARDS:
            self._cut = True
            if self._guard is not None:
                _shut(self._guard)

    def close(self) -> None:
        super().close()
        with _GUARDS:
            if self._guard is not None:
                self._guard.close()
                self._guard = None


class TlsConnection(smtplib.SMTP_SSL, Connection):
    """Implicit TLS: SMTP_SSL wraps the socket that `Connection._get_socket` guards."""


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return  # already closed by the other end


@dataclass
class Deadline:
    """When a connect or a transaction must be over; `expired` once the watchdog cut it, and
    `by_stop` when it was the stop request that brought it forward."""

    at: float
    seconds: float
    expired: bool = False
    by_stop: bool = False


class Watchdog:
    """Cuts connections past their deadline; use as a context manager around a run."""

    def __init__(self, stop: threading.Event, grace: float) -> None:
        self._stop = stop
        self._grace = grace
        self._stop_at: float | None = None
        self._busy: dict[Connection, Deadline] = {}
        self._changed = threading.Condition()
        self._closed = False
        self._wake_at = 0.0
        self._thread = threading.Thread(target=self._watch, name="digest-smtp-watchdog")

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join()

    @contextmanager
    def limit(
        self, connection: Connection, seconds: float, since: float | None = None
    ) -> Iterator[Deadline]:
        """The block must be over within `seconds` of `since` (a time.monotonic(); now when
        None), or within the stop's grace; else the connection is cut and the deadline says so."""
        now = time.monotonic()
        deadline = Deadline(at=(now if since is None else since) + seconds, seconds=seconds)
        with self._changed:
            stop_at = self._stop_deadline(now)
            if stop_at is not None and stop_at < deadline.at:
                deadline.at, deadline.by_stop = stop_at, True
            self._busy[connection] = deadline
            if deadline.at < self._wake_at:
                self._changed.notify()
        try:
            yield deadline
        finally:
            with self._changed:
                self._busy.pop(connection, None)

    def _stop_deadline(self, now: float) -> float | None:
        if self._stop_at is None and self._stop.is_set():
            self._stop_at = now + self._grace
        return self._stop_at

    def _watch(self) -> None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                stop_at = self._stop_deadline(now)
                waits = [STOP_POLL]
                for connection, deadline in self._busy.items():
                    if stop_at is not None and stop_at < deadline.at:
                        deadline.at, deadline.by_stop = stop_at, True
                    if deadline.expired:
                        continue
                    if deadline.at <= now:
                        deadline.expired = True
                        connection.cut()
                    else:
                        waits.append(deadline.at - now)
                self._wake_at = now + min(waits)
                self._changed.wait(min(waits))
