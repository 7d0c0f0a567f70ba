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
from dataclasses import dataclass
from typing import NamedTuple

from digest.config import Settings
from digest.errors import ConfigError, DeliveryError

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
MAX_BACKOFF = 300.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One finished message and its envelope: all a sender learns about a subscriber."""

    key: int
    recipient: str
    message: bytes
    message_id: str
    envelope_from: str = ""
    """This message's own envelope sender (a VERP address); empty: the sender's, one per run."""


@dataclass(frozen=True, slots=True)
class Result:
    """The server's last word on one message."""

    outgoing: Outgoing
    accepted: bool
    attempts: int
    reply: str


Report = Callable[[Result], None]
"""Called from sending threads; must return only once the result is durably recorded."""


class Answer(NamedTuple):
    """A transaction's final answer, and whether its connection can carry the next message."""

    accepted: bool
    reply: str
    reusable: bool


class _Temporary(Exception):
    """A reply or a network error worth trying again."""

    def __init__(self, reply: str, *, close: bool) -> None:
        super().__init__(reply)
        self.reply = reply
        self.close = close


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

    def connect(self) -> smtplib.SMTP:
        """An open, greeted, secured and logged-in connection. Raises _Temporary for what may pass
        (refused, 4xx greeting, timeout) and DeliveryError for what will not (TLS, credentials)."""
        settings = self.settings
        timeout = settings.smtp_timeout
        local = socket.gethostname() or "localhost"
        smtp: smtplib.SMTP | None = None
        try:
            if settings.smtp_security == "tls":
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, local, timeout=timeout, context=self._context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, local, timeout=timeout)
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
            self.close(smtp)
            raise DeliveryError(
                f"{self.where}: certificate not trusted ({exc.verify_message})"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close(smtp)
            if exc.smtp_code < 500:
                raise _Temporary(_reply(exc.smtp_code, exc.smtp_error), close=True) from None
            raise DeliveryError(
                f"{self.where}: login as {settings.smtp_username!r} refused "
                f"({_reply(exc.smtp_code, exc.smtp_error)})"
            ) from None
        except smtplib.SMTPNotSupportedError:
            self.close(smtp)
            raise DeliveryError(
                f"{self.where}: the server offers no AUTH on this connection "
                "(some servers only offer it after STARTTLS)"
            ) from None
        except smtplib.SMTPResponseException as exc:
            self.close(smtp)
            if exc.smtp_code >= 500:
                raise DeliveryError(
                    f"{self.where}: refused the session ({_reply(exc.smtp_code, exc.smtp_error)})"
                ) from None
            raise _Temporary(_reply(exc.smtp_code, exc.smtp_error), close=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close(smtp)
            raise _Temporary(f"{type(exc).__name__}: {exc}", close=True) from None

    @staticmethod
    def close(smtp: smtplib.SMTP | None) -> None:
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def transact(self, smtp: smtplib.SMTP, outgoing: Outgoing) -> Answer:
        """One SMTP transaction to its final answer; _Temporary when it is worth another try.

        Every exception smtplib or the socket raises, on any command (RSET after a refusal
        included: a relay may answer 452 or 554 and hang up), is temporary: it closes the
        connection and never ends the run."""
        sender = outgoing.envelope_from or self.envelope_from
        try:
            code, text = smtp.mail(sender)
            if code == 250:
                code, text = smtp.rcpt(outgoing.recipient)
                if code in (250, 251):
                    code, text = smtp.data(outgoing.message)
                    if 200 <= code < 300:
                        return Answer(True, _reply(code, text), reusable=True)
            elif code >= 500:
                raise DeliveryError(f"{self.where}: sender {sender} refused ({_reply(code, text)})")
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, exc.smtp_error
        except (smtplib.SMTPException, OSError) as exc:
            raise _Temporary(f"{type(exc).__name__}: {exc}", close=True) from None
        reusable = code != 421 and _reset(smtp)
        if code >= 500:
            return Answer(False, _reply(code, text), reusable=reusable)
        raise _Temporary(_reply(code, text), close=not reusable)

    # --- many connections ---

    def backoff(self, attempt: int, rng: random.Random) -> float:
        base = self.settings.smtp_retry_delay * 2 ** (attempt - 1)
        return min(MAX_BACKOFF, base) * rng.uniform(0.5, 1.5)

    def run(self, messages: Iterator[Outgoing], report: Report, stop: threading.Event) -> None:
        """Send every message; return when all are reported, or when `stop` is set (after the
        messages in flight are reported). Raises DeliveryError when the run cannot go on."""
        lock = threading.Lock()
        errors: list[BaseException] = []

        def take() -> Outgoing | None:
            with lock:
                if stop.is_set() or errors:
                    return None
                return next(messages, None)

        def work() -> None:
            try:
                self._work(take, report, stop)
            except BaseException as exc:
                errors.append(exc)
                stop.set()

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
        self, take: Callable[[], Outgoing | None], report: Report, stop: threading.Event
    ) -> None:
        rng = random.Random()
        smtp: smtplib.SMTP | None = None
        try:
            while (outgoing := take()) is not None:
                smtp = self._deliver(smtp, outgoing, report, stop, rng)
        finally:
            self.close(smtp)

    def _deliver(
        self,
        smtp: smtplib.SMTP | None,
        outgoing: Outgoing,
        report: Report,
        stop: threading.Event,
        rng: random.Random,
    ) -> smtplib.SMTP | None:
        """Try one message until it gets a final answer; leave it unreported when stopping."""
        attempts = 0
        failed_connects = 0
        while True:
            if smtp is None:
                try:
                    smtp = self.connect()
                except _Temporary as exc:
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
            attempts += 1
            try:
                answer = self.transact(smtp, outgoing)
            except _Temporary as exc:
                if exc.close:
                    self.close(smtp)
                    smtp = None
                if attempts >= self.settings.smtp_max_attempts:
                    report(Result(outgoing, False, attempts, exc.reply))
                    return smtp
                if stop.wait(self.backoff(attempts, rng)):
                    return smtp
                continue
            if not answer.reusable:
                self.close(smtp)
                smtp = None
            report(Result(outgoing, answer.accepted, attempts, answer.reply))
            return smtp
