"""The SMTP sender: a few long-lived connections, a shared rate limit, retries with backoff.

Each connection runs in its own thread (smtplib is blocking, and the time goes to the network and to
the server, not to Python). A message is reported to the caller as soon as the server answers its
DATA, and the thread only moves on once the caller has recorded it: that is what bounds the repeats
after a crash to one message per connection.

Failure policy:
- a 2xx after DATA: accepted;
- a 5xx to RCPT or DATA: this recipient failed for good, recorded, the send goes on;
- a 4xx, a timeout, a dropped connection or any other exception smtplib raises on any command
  (a RSET that finds the connection closed after a 452 or 554 included): tried again after an
  exponential backoff with jitter, up to DIGEST_SMTP_MAX_ATTEMPTS, then recorded as failed with the
  last reply; a connection that may be broken (a 421, an exception) is closed and reopened;
- a connection that cannot be opened (a 4xx login failure included) is retried the same way
  without charging the message; when it still cannot be opened, or the server refuses our login,
  TLS or sender address for good (5xx), the run stops with DeliveryError and every unsent message
  stays pending for the next run.
"""

from __future__ import annotations

import ipaddress
import random
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from digest.config import Settings
from digest.deliver.deadlines import Connection, TlsConnection, Watchdog
from digest.errors import ConfigError, DeliveryError

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
MAX_BACKOFF = 300.0


class Lease(Protocol):
    """Whether a claimed message may still go to the server (see digest/state/claims.py)."""

    def holds(self, key: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One finished message and its envelope: all a sender learns about a subscriber."""

    key: int
    recipient: str
    message: bytes
    message_id: str
    envelope_from: str = ""
    """This message's own envelope sender (a VERP address); empty: the sender's, one per run."""
    lease: Lease | None = None
    """Asked just before each try; a message whose lease may have lapsed is dropped unreported,
    and its row goes back to the senders sharing the issue."""


@dataclass(frozen=True, slots=True)
class Result:
    """The server's last word on one message; `interrupted` when a stop cut its transaction,
    which leaves it to send again (its reply says whether the relay may have it)."""

    outgoing: Outgoing
    accepted: bool
    attempts: int
    reply: str
    interrupted: bool = False


Report = Callable[[Result], Callable[[], None] | None]
"""Called from sending threads. Returns None once the result is durably recorded, or a function
that waits until it is, which the connection calls before it hands over its next message (its
DATA): so it may send MAIL and RCPT for the next message while the result is being recorded, and
still never has more than one message whose acceptance the ledger may not know of."""

Settle = Callable[[], bool]
"""Waits for the previous result's recording; False when the message about to be handed over
may no longer be (the send was stopped or its lease lapsed meanwhile)."""


class _Withdrawn(Exception):
    """The send was stopped, or the message's lease lapsed, while the previous result was being
    recorded: it is not handed over (RSET), and stays pending, unreported."""


class Answer(NamedTuple):
    """A transaction's final answer, and whether its connection can carry the next message."""

    accepted: bool
    reply: str
    reusable: bool


class _Temporary(Exception):
    """A reply or a network error worth trying again; `step` is the command it came at, and
    `stopped` says a stop request cut it (no retry then)."""

    def __init__(self, reply: str, *, close: bool, step: str = "", stopped: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.close = close
        self.step = step
        self.stopped = stopped


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _reset(smtp: smtplib.SMTP) -> bool:
    """RSET after a refused step; False when the connection did not survive it."""
    try:
        code, _text = smtp.rset()
    except (smtplib.SMTPException, OSError):
        return False
    return code == 250


def _is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class RateLimiter:
    """At most `rate` message starts per second across all connections (0: unlimited)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def wait(self, stop: threading.Event) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now)
            self._next = start + self._interval
        if start > now:
            stop.wait(start - now)


class SmtpSender:
    """Sends a stream of messages over DIGEST_SMTP_CONNECTIONS connections."""

    def __init__(self, settings: Settings, envelope_from: str) -> None:
        self.settings = settings
        self.envelope_from = envelope_from
        self.host = settings.smtp_host
        self.port = settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
        self.where = f"SMTP {self.host}:{self.port}"
        if (
            settings.smtp_security == "none"
            and not settings.smtp_allow_insecure
            and not _is_loopback(self.host)
        ):
            raise ConfigError(
                f"DIGEST_SMTP_SECURITY: 'none' sends passwords and mail in clear text to "
                f"{self.host}, which is not a loopback address; use starttls or tls, or set "
                "DIGEST_SMTP_ALLOW_INSECURE=true"
            )
        self._context: ssl.SSLContext | None = None
        if settings.smtp_security != "none":
            cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
            try:
                self._context = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"DIGEST_SMTP_CA_FILE: cannot load {cafile} ({exc})") from None
        self._rate = RateLimiter(settings.smtp_rate)

    # --- one connection ---

    def connect(self, watchdog: Watchdog) -> Connection:
        """An open, greeted, secured and logged-in connection, within DIGEST_SMTP_TIMEOUT in all.
        Raises _Temporary for what may pass (refused, 4xx greeting, timeout) and DeliveryError for
        what will not (TLS, credentials)."""
        settings = self.settings
        timeout = settings.smtp_timeout
        local = socket.gethostname() or "localhost"
        smtp: Connection
        if settings.smtp_security == "tls":
            smtp = TlsConnection(local_hostname=local, timeout=timeout, context=self._context)
        else:
            smtp = Connection(local_hostname=local, timeout=timeout)
        with self._deadline(watchdog, smtp, "connect"):
            try:
                code, text = smtp.connect(self.host, self.port)
                if code != 220:
                    raise smtplib.SMTPConnectError(code, text)
                smtp.ehlo()
                if settings.smtp_security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(f"{self.where}: the server does not offer STARTTLS")
                    smtp.starttls(context=self._context)
                    smtp.ehlo()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                return smtp
            except ssl.SSLCertVerificationError as exc:
                _quit(smtp)
                raise DeliveryError(
                    f"{self.where}: certificate not trusted ({exc.verify_message})"
                ) from None
            except smtplib.SMTPAuthenticationError as exc:
                _quit(smtp)
                if exc.smtp_code < 500:
                    raise _Temporary(_reply(exc.smtp_code, exc.smtp_error), close=True) from None
                raise DeliveryError(
                    f"{self.where}: login as {settings.smtp_username!r} refused "
                    f"({_reply(exc.smtp_code, exc.smtp_error)})"
                ) from None
            except smtplib.SMTPNotSupportedError:
                _quit(smtp)
                raise DeliveryError(
                    f"{self.where}: the server offers no AUTH on this connection "
                    "(some servers only offer it after STARTTLS)"
                ) from None
            except smtplib.SMTPResponseException as exc:
                _quit(smtp)
                reply = _reply(exc.smtp_code, exc.smtp_error)
                if exc.smtp_code >= 500:
                    raise DeliveryError(f"{self.where}: refused the session ({reply})") from None
                raise _Temporary(reply, close=True) from None
            except (smtplib.SMTPException, OSError) as exc:
                _quit(smtp)
                raise _Temporary(f"{type(exc).__name__}: {exc}", close=True) from None

    def close(self, smtp: Connection | None, watchdog: Watchdog) -> None:
        """QUIT, within the deadline (a stop's grace included), then close."""
        if smtp is None:
            return
        with watchdog.limit(smtp, self.settings.smtp_timeout):
            _quit(smtp)

    @contextmanager
    def _deadline(self, watchdog: Watchdog, smtp: Connection, step: str) -> Iterator[None]:
        """The block (a connect or a transaction) within DIGEST_SMTP_TIMEOUT, or within the
        stop's grace; one the watchdog cut fails as _Temporary saying so."""
        with watchdog.limit(smtp, self.settings.smtp_timeout) as deadline:
            try:
                yield
            except _Temporary as exc:
                if not deadline.expired:
                    raise
                if deadline.by_stop:
                    raise _Temporary(
                        _interrupted(exc.step or step), close=True, stopped=True
                    ) from None
                raise _Temporary(
                    f"no answer within DIGEST_SMTP_TIMEOUT ({deadline.seconds:g} s) "
                    f"in {exc.step or step}",
                    close=True,
                ) from None

    def transact(
        self, smtp: Connection, outgoing: Outgoing, settle: Settle | None = None
    ) -> Answer:
        """One SMTP transaction to its final answer; _Temporary when it is worth another try.
        `settle` (the previous message's recording) is awaited just before DATA.

        Every exception smtplib or the socket raises, on any command (RSET after a refusal
        included: a relay may answer 452 or 554 and hang up), is temporary: it closes the
        connection and never ends the run."""
        sender = outgoing.envelope_from or self.envelope_from
        step = "MAIL"
        try:
            code, text = smtp.mail(sender)
            if code == 250:
                _check_whole(smtp, step)
                step = "RCPT"
                code, text = smtp.rcpt(outgoing.recipient)
                if code in (250, 251):
                    _check_whole(smtp, step)
                    if settle is not None and not settle():
                        _reset(smtp)
                        raise _Withdrawn
                    step = "DATA"
                    code, text = smtp.data(outgoing.message)
                    if 200 <= code < 300:
                        return Answer(True, _reply(code, text), reusable=True)
            elif code >= 500:
                raise DeliveryError(f"{self.where}: sender {sender} refused ({_reply(code, text)})")
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, exc.smtp_error
        except (smtplib.SMTPException, OSError) as exc:
            raise _Temporary(f"{type(exc).__name__}: {exc}", close=True, step=step) from None
        reusable = code != 421 and _reset(smtp)
        if code >= 500:
            return Answer(False, _reply(code, text), reusable=reusable)
        raise _Temporary(_reply(code, text), close=not reusable, step=step)

    # --- many connections ---

    def backoff(self, attempt: int, rng: random.Random) -> float:
        base = self.settings.smtp_retry_delay * 2 ** (attempt - 1)
        return min(MAX_BACKOFF, base) * rng.uniform(0.5, 1.5)

    def run(self, messages: Iterator[Outgoing], report: Report, stop: threading.Event) -> None:
        """Send every message; return when all are reported, or when `stop` is set: then the
        messages in flight get half of DIGEST_SMTP_TIMEOUT to finish, and those cut are reported
        as interrupted. Raises DeliveryError when the run cannot go on."""
        lock = threading.Lock()
        errors: list[BaseException] = []

        def take() -> Outgoing | None:
            with lock:
                if stop.is_set() or errors:
                    return None
                return next(messages, None)

        def work() -> None:
            try:
                self._work(take, report, stop, watchdog)
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        with Watchdog(stop, grace=self.settings.smtp_timeout / 2) as watchdog:
            threads = [
                threading.Thread(target=work, name=f"digest-smtp-{n}", daemon=True)
                for n in range(self.settings.smtp_connections)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]

    def _work(
        self,
        take: Callable[[], Outgoing | None],
        report: Report,
        stop: threading.Event,
        watchdog: Watchdog,
    ) -> None:
        rng = random.Random()
        smtp: Connection | None = None
        unsettled: list[Callable[[], None]] = []
        """The previous message's recording, awaited before this connection's next DATA."""
        try:
            while (outgoing := take()) is not None:
                smtp = self._deliver(smtp, outgoing, report, stop, watchdog, rng, unsettled)
        finally:
            while unsettled:
                unsettled.pop()()
            self.close(smtp, watchdog)

    def _deliver(
        self,
        smtp: Connection | None,
        outgoing: Outgoing,
        report: Report,
        stop: threading.Event,
        watchdog: Watchdog,
        rng: random.Random,
        unsettled: list[Callable[[], None]],
    ) -> Connection | None:
        """Try one message until it gets a final answer; when stopping, leave it unreported if
        it was not started, and report it interrupted if the stop cut it. `unsettled` holds the
        previous message's recording until this one's DATA (then this one's)."""

        def settle() -> bool:
            while unsettled:
                unsettled.pop()()
            if stop.is_set():  # asked while the previous outcome was recorded: not started
                return False
            return outgoing.lease is None or outgoing.lease.holds(outgoing.key)

        def reported(result: Result) -> None:
            while unsettled:  # this message never reached DATA: settle the previous one now
                unsettled.pop()()
            pending = report(result)
            if pending is not None:
                unsettled.append(pending)

        attempts = 0
        failed_connects = 0
        while True:
            if smtp is None:
                try:
                    smtp = self.connect(watchdog)
                except _Temporary as exc:
                    if exc.stopped:
                        return None
                    failed_connects += 1
                    if failed_connects >= self.settings.smtp_max_attempts:
                        raise DeliveryError(
                            f"{self.where}: cannot connect after {failed_connects} tries "
                            f"({exc.reply})"
                        ) from None
                    if stop.wait(self.backoff(failed_connects, rng)):
                        return None
                    continue
            self._rate.wait(stop)
            if stop.is_set():
                return smtp
            if outgoing.lease is not None and not outgoing.lease.holds(outgoing.key):
                return smtp
            attempts += 1
            try:
                with self._deadline(watchdog, smtp, "the transaction"):
                    answer = self.transact(smtp, outgoing, settle)
            except _Withdrawn:
                return smtp
            except _Temporary as exc:
                if exc.close:
                    self.close(smtp, watchdog)
                    smtp = None
                if exc.stopped:
                    reported(Result(outgoing, False, attempts, exc.reply, interrupted=True))
                    return smtp
                if attempts >= self.settings.smtp_max_attempts:
                    reported(Result(outgoing, False, attempts, exc.reply))
                    return smtp
                if stop.wait(self.backoff(attempts, rng)):
                    return smtp
                continue
            if not answer.reusable:
                self.close(smtp, watchdog)
                smtp = None
            reported(Result(outgoing, answer.accepted, attempts, answer.reply))
            return smtp


def _check_whole(smtp: Connection, step: str) -> None:
    """A reply read from a cut connection may be a fragment that looks like a 250."""
    if smtp.was_cut:
        raise smtplib.SMTPServerDisconnected(f"connection cut during {step}")


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _interrupted(step: str) -> str:
    if step == "DATA":
        return (
            "interrupted by a stop during DATA: the relay may have taken it; "
            "a resend carries the same Message-ID"
        )
    return f"interrupted by a stop during {step}: not delivered"
