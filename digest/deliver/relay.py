"""The relay as the sender sees it: where it is, how a connection to it is opened (greeting, TLS,
login) and closed, the rate it may be sent at, and how long to wait before trying again.

A connection that cannot be opened for now (refused, a 4xx greeting or login, a timeout) raises
`Temporary`; one that never will be (an untrusted certificate, credentials or TLS refused for
good) raises DeliveryError, which stops the run."""

from __future__ import annotations

import ipaddress
import random
import smtplib
import socket
import ssl
import time

from digest.config import Settings
from digest.deliver.deadlines import Connection, Deadline, TlsConnection, Watchdog
from digest.errors import ConfigError, DeliveryError

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
MAX_BACKOFF = 300.0


class Temporary(Exception):
    """A reply or a network error worth trying again; `stopped` says a stop request cut it (no
    retry then)."""

    def __init__(self, reply: str, *, stopped: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.stopped = stopped


def reply_text(code: int, text: bytes | str) -> str:
    """A reply as one line, for the ledger and the logs."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def interrupted(step: str) -> str:
    """What a stop that cut a message at `step` leaves: whether the relay may have it."""
    if step == "DATA":
        return (
            "interrupted by a stop during DATA: the relay may have taken it; "
            "a resend carries the same Message-ID"
        )
    return f"interrupted by a stop during {step}: not delivered"


def cut_reply(exc: BaseException, step: str, deadline: Deadline) -> tuple[str, bool]:
    """Why a command at `step` failed, and whether a stop did it: the watchdog's cut (the
    deadline, or the stop's grace) or the error itself."""
    if deadline.expired:
        if deadline.by_stop:
            return interrupted(step), True
        return (
            f"no answer within DIGEST_SMTP_TIMEOUT ({deadline.seconds:g} s) in {step}",
            False,
        )
    return f"{type(exc).__name__}: {exc}", False


def quit_politely(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


class RateLimiter:
    """At most `rate` message starts per second across all connections (0: unlimited). Asked by
    one loop, so it never blocks: it says how long to wait."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()

    def wait_for(self, now: float) -> float:
        """0 when a message may start at `now` (which counts it), else the seconds to wait."""
        if not self._interval:
            return 0.0
        if now < self._next:
            return self._next - now
        self._next = now + self._interval
        return 0.0


class Relay:
    """DIGEST_SMTP_*: the relay's address, security and login, checked once per run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
        self.rate = RateLimiter(settings.smtp_rate)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        base = self.settings.smtp_retry_delay * 2 ** (attempt - 1)
        return min(MAX_BACKOFF, base) * rng.uniform(0.5, 1.5)

    def connect(self, watchdog: Watchdog) -> Connection:
        """An open, greeted, secured and logged-in connection, within DIGEST_SMTP_TIMEOUT in all.
        Raises Temporary for what may pass (refused, 4xx greeting, timeout) and DeliveryError for
        what will not (TLS, credentials)."""
        settings = self.settings
        timeout = settings.smtp_timeout
        local = socket.gethostname() or "localhost"
        smtp: Connection
        if settings.smtp_security == "tls":
            smtp = TlsConnection(local_hostname=local, timeout=timeout, context=self._context)
        else:
            smtp = Connection(local_hostname=local, timeout=timeout)
        with watchdog.limit(smtp, timeout) as deadline:
            try:
                return self._open(smtp)
            except (smtplib.SMTPException, OSError) as exc:
                quit_politely(smtp)
                if isinstance(exc, smtplib.SMTPResponseException) and not deadline.expired:
                    raise Temporary(reply_text(exc.smtp_code, exc.smtp_error)) from None
                reply, stopped = cut_reply(exc, "connect", deadline)
                raise Temporary(reply, stopped=stopped) from None

    def _open(self, smtp: Connection) -> Connection:
        settings = self.settings
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
            quit_politely(smtp)
            raise DeliveryError(
                f"{self.where}: certificate not trusted ({exc.verify_message})"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            if exc.smtp_code < 500:
                raise
            quit_politely(smtp)
            raise DeliveryError(
                f"{self.where}: login as {settings.smtp_username!r} refused "
                f"({reply_text(exc.smtp_code, exc.smtp_error)})"
            ) from None
        except smtplib.SMTPNotSupportedError:
            quit_politely(smtp)
            raise DeliveryError(
                f"{self.where}: the server offers no AUTH on this connection "
                "(some servers only offer it after STARTTLS)"
            ) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 500:
                raise
            quit_politely(smtp)
            raise DeliveryError(
                f"{self.where}: refused the session ({reply_text(exc.smtp_code, exc.smtp_error)})"
            ) from None

    def close(self, smtp: Connection | None, watchdog: Watchdog) -> None:
        """QUIT, within the deadline (a stop's grace included), then close."""
        if smtp is None:
            return
        with watchdog.limit(smtp, self.settings.smtp_timeout):
            quit_politely(smtp)
