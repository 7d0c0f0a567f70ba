"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that records every message it accepts and
injects the faults a real relay has: 421 at connect, 451 then success, 550 for an address, a
connection dropped in the middle of DATA or instead of a reply to RCPT, a hook that SIGKILLs the
sender just before it would accept a given message, error replies after which the server hangs
up, and replies trickled one byte at a time (each byte well within any read timeout, the whole
reply far beyond it). STARTTLS (with a trustme certificate) and AUTH are optional; PIPELINING is
offered unless asked not to, and the server notes which commands the client sent ahead."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Faults:
    """What the server does wrong, and how often; counters go down as faults fire."""

    refuse_connections: int = 0
    """The next N connections get `421` as greeting and are closed."""
    temporary: dict[str, int] = field(default_factory=dict)
    """address -> how many times RCPT gets `451` before it is accepted."""
    reject: set[str] = field(default_factory=set)
    """Addresses refused for good with `550` at RCPT."""
    drop_in_data: dict[str, int] = field(default_factory=dict)
    """address -> how many times the connection is dropped after the first line of DATA."""
    kill: tuple[int, int] | None = None
    """(pid, n): SIGKILL process `pid` when the n-th message (counting from 1) has been received,
    before it is accepted; that message is not recorded."""
    terminate: tuple[int, int] | None = None
    """(pid, n): SIGTERM process `pid` as the n-th message is accepted (it is recorded)."""
    auth_unavailable: int = 0
    """The next N logins get `454 4.7.0 Temporary authentication failure`."""
    hang_up_at_rcpt: dict[str, str] = field(default_factory=dict)
    """address -> a reply (e.g. `452 4.5.3 Too many recipients`) given once to its RCPT, after
    which the server closes the connection."""
    trickle: float = 0.5
    """Seconds between the bytes of a trickled reply."""
    trickle_greetings: int = 0
    """The greetings of the next N connections are trickled."""
    trickle_rcpt: set[str] = field(default_factory=set)
    """Addresses whose RCPT reply is trickled, once each."""
    terminate_on_trickle: int | None = None
    """SIGTERM this pid as the first trickled reply starts (`SmtpServer.signalled_at` says when)."""
    hang_up_at_data: dict[str, str] = field(default_factory=dict)
    """address -> a reply given once at the end of its DATA instead of accepting the message,
    after which the server closes the connection."""
    drop_at_rcpt: set[str] = field(default_factory=set)
    """Addresses whose RCPT, once each, gets no reply: the server hangs up instead."""


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_EHLO(
        self,
        _server: SMTP,
        session: Session,
        _envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """aiosmtpd reads pipelined commands in order but does not say so; say it, as relays do."""
        session.host_name = hostname
        if not self.server.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(
        self,
        server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        assert isinstance(server, _FaultySMTP)
        return self.server.on_rcpt(server, envelope, address)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(server, _FaultySMTP)
        return self.server.on_data(server, session, envelope)


class _FaultySMTP(SMTP):
    """aiosmtpd's server with the faults its handler hooks cannot express."""

    def __init__(self, test_server: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.test_server = test_server
        self.hang_up = False
        """Set by a hook: close the connection once its reply has been sent."""
        self.trickle_next = False
        """Set by a hook: send the next reply one byte at a time."""
        self.drop_next = False
        """Set by a hook: hang up instead of sending the next reply."""

    def _ahead(self) -> bool:
        """Whether more of the client's input arrived with the command being handled: the client
        pipelined it (RFC 2920) rather than waiting for this command's reply."""
        return bool(self._reader._buffer)  # type: ignore[attr-defined]

    async def push(self, status: str | bytes) -> None:
        if self.drop_next:
            assert self.transport is not None
            self.transport.close()
            return
        if not self.trickle_next:
            await super().push(status)
            return
        self.trickle_next = False
        self.test_server.trickle_started()
        response = (status.encode("ascii") if isinstance(status, str) else status) + b"\r\n"
        for byte in response:
            assert self.transport is not None
            if self.transport.is_closing():
                return
            self._writer.write(bytes([byte]))
            await asyncio.sleep(self.test_server.faults.trickle)

    def _hang_up_if_asked(self) -> None:
        if self.hang_up:
            assert self.transport is not None
            self.transport.close()

    async def smtp_MAIL(self, arg: str | None) -> None:
        self.test_server.arrived("MAIL", self._ahead())
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        await super().smtp_RCPT(arg)
        self._hang_up_if_asked()

    async def _handle_client(self) -> None:
        self.trickle_next = self.test_server.take_connection()
        if self.test_server.take_refusal():
            await self.push("421 4.3.2 Service not available, closing channel")
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_DATA(self, arg: str) -> None:
        envelope = self.envelope
        rcpt_tos = envelope.rcpt_tos if envelope is not None else []
        if rcpt_tos and not arg and self.test_server.take_drop(rcpt_tos[0]):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")
            assert self.transport is not None
            self.transport.close()
            self._handler_coroutine.cancel()
            return
        await super().smtp_DATA(arg)
        self._hang_up_if_asked()


class _Controller(Controller):
    def __init__(self, test_server: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.test_server = test_server

    def factory(self) -> SMTP:
        return _FaultySMTP(self.test_server, self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """Start with `with SmtpServer(...) as server:`; `server.received` holds accepted messages."""

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        users: dict[str, str] | None = None,
        auth_require_tls: bool = True,
        faults: Faults | None = None,
        pipelining: bool = True,
    ) -> None:
        self.host = "127.0.0.1"
        self.pipelining = pipelining
        """Whether EHLO offers PIPELINING (RFC 2920)."""
        self.port = free_port()
        self.faults = faults or Faults()
        self.users = users
        self.received: list[Received] = []
        self.arrivals: list[tuple[str, bool]] = []
        """("MAIL", whether RCPT came with it) for each MAIL, and ("end", whether the next
        command came with it) for each end of data: what the client pipelined."""
        self.connections = 0
        self.signalled_at: float | None = None
        """time.monotonic() when `terminate_on_trickle` sent its SIGTERM."""
        self._lock = threading.Lock()
        self._started = False
        kwargs: dict[str, Any] = {"server_hostname": "mx.test"}
        if tls is not None and not implicit_tls:
            kwargs |= {"tls_context": tls, "require_starttls": True}
        if users is not None:
            kwargs |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": auth_require_tls,
            }
        self._controller = _Controller(
            self,
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=tls if implicit_tls else None,
            **kwargs,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        self._started = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    # --- what the tests look at ---

    def recipients(self) -> Counter[str]:
        with self._lock:
            return Counter(address for message in self.received for address in message.rcpt_tos)

    # --- hooks, called on the server's thread ---

    def take_connection(self) -> bool:
        """Count a connection; whether its greeting is to be trickled."""
        with self._lock:
            if not self._started:
                return False  # the controller's own check that the server is up
            self.connections += 1
            if self.faults.trickle_greetings <= 0:
                return False
            self.faults.trickle_greetings -= 1
            return True

    def trickle_started(self) -> None:
        with self._lock:
            pid, self.faults.terminate_on_trickle = self.faults.terminate_on_trickle, None
            if pid is not None:
                self.signalled_at = time.monotonic()
                os.kill(pid, signal.SIGTERM)

    def arrived(self, what: str, ahead: bool) -> None:
        with self._lock:
            self.arrivals.append((what, ahead))

    def take_refusal(self) -> bool:
        with self._lock:
            if not self._started or self.faults.refuse_connections <= 0:
                return False
            self.faults.refuse_connections -= 1
            return True

    def take_drop(self, address: str) -> bool:
        with self._lock:
            left = self.faults.drop_in_data.get(address, 0)
            if left <= 0:
                return False
            self.faults.drop_in_data[address] = left - 1
            return True

    def on_rcpt(self, server: _FaultySMTP, envelope: Envelope, address: str) -> str:
        with self._lock:
            if address in self.faults.trickle_rcpt:
                self.faults.trickle_rcpt.discard(address)
                server.trickle_next = True
            if address in self.faults.drop_at_rcpt:
                self.faults.drop_at_rcpt.discard(address)
                server.drop_next = True
                return "451 4.3.0 Never sent: the connection is dropped instead"
            if address in self.faults.hang_up_at_rcpt:
                server.hang_up = True
                return self.faults.hang_up_at_rcpt.pop(address)
            if address in self.faults.reject:
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            left = self.faults.temporary.get(address, 0)
            if left > 0:
                self.faults.temporary[address] = left - 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def on_data(self, server: _FaultySMTP, session: Session, envelope: Envelope) -> str:
        self.arrived("end", server._ahead())
        with self._lock:
            hang_up = [self.faults.hang_up_at_data.pop(a, "") for a in envelope.rcpt_tos]
            if any(hang_up):
                server.hang_up = True
                return next(filter(None, hang_up))
            kill = self.faults.kill
            if kill is not None and len(self.received) + 1 >= kill[1]:
                self.faults.kill = None
                os.kill(kill[0], signal.SIGKILL)
                return "451 4.3.0 Sender went away"
            login = session.auth_data if isinstance(session.auth_data, str) else None
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or b""),
                    login=login,
                )
            )
            terminate = self.faults.terminate
            if terminate is not None and len(self.received) >= terminate[1]:
                self.faults.terminate = None
                os.kill(terminate[0], signal.SIGTERM)
        return "250 2.0.0 Message accepted"

    def _authenticate(
        self, _server: SMTP, _session: Session, _envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        with self._lock:
            if self.faults.auth_unavailable > 0:
                self.faults.auth_unavailable -= 1
                return AuthResult(
                    success=False,
                    handled=False,
                    message="454 4.7.0 Temporary authentication failure",
                )
        if isinstance(data, LoginPassword) and self.users is not None:
            login, password = data.login.decode(), data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)
