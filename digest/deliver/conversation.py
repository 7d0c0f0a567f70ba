"""One connection to the relay as the sender's loop drives it: the commands it writes, the replies
it waits for, and what each reply means for the message it answers.

A message goes through two steps on its connection:
- its start: MAIL, RCPT and DATA, then, after the 354, its body without the "." that ends it;
- its end: the ".", which hands it over, and the server's final reply.
When the server offers PIPELINING (RFC 2920) the end of one message and the start of the next go
out in one write (".", MAIL, RCPT, DATA) and their four replies come back together: one round trip
per message. Without it, each command waits for the reply to the one before. The loop writes the
"." only once the previous message's outcome is recorded and this one's lease still holds, so a
connection never has more than one message in the relay's hands that the ledger may not know of;
a message withdrawn there (the send was stopped, or its lease lapsed) is withdrawn by hanging up:
data that never ended is never delivered.

Failure policy:
- a 2xx to the end of data: accepted;
- a 5xx to RCPT, DATA or the end of data: this recipient failed for good, recorded, the send goes
  on (RSET, unless the connection is closed anyway);
- a 4xx, a timeout, a dropped connection, a reply that cannot be read, a RSET that fails after a
  refusal: tried again after an exponential backoff with jitter, up to DIGEST_SMTP_MAX_ATTEMPTS,
  then recorded as failed with the last reply; a connection that may be broken (a 421, an error)
  is closed and reopened. A try is charged to the message whose reply was awaited when the
  connection failed: a message pipelined behind it goes again uncharged, and so does one whose
  first command found the connection gone right after the relay refused something (relays hang
  up after a refusal);
- a 5xx to MAIL: the relay refuses our sender, which stops the run (DeliveryError);
- each message's transaction, from its MAIL to its final reply (the wait for the previous commit
  included), must be over within DIGEST_SMTP_TIMEOUT, or the connection is cut.
"""

from __future__ import annotations

import random
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from digest.deliver.deadlines import Connection, Watchdog
from digest.deliver.outgoing import Outgoing, Result
from digest.deliver.relay import Relay, interrupted, reply_text
from digest.errors import DeliveryError

MAIL, RCPT, DATA = "MAIL", "RCPT", "DATA"
STEPS = (MAIL, RCPT, DATA)
END = "END"
"""The reply to a message's end of data (the step is DATA, as the ledger says it)."""
RSET = "RSET"
_EXPECTED = {MAIL: (250,), RCPT: (250, 251), DATA: (354,)}
END_OF_DATA = b".\r\n"
MAX_LINE = 8192
"""The longest reply line read (smtplib's limit)."""
_UNSAFE_ADDRESS = re.compile(rb"[\x00-\x20<>\x7f]")
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

Reply = tuple[int, bytes]
Why = Callable[[str], str]
"""What broke a connection, said for the step it broke at."""


@dataclass(slots=True)
class Try:
    """A message on its way through a connection."""

    outgoing: Outgoing
    sender: str = ""
    commands: tuple[bytes, bytes, bytes] = (b"", b"", b"")
    attempts: int = 0
    started: float = 0.0
    """When its current try's MAIL went out: its transaction's deadline counts from there."""
    not_before: float = 0.0
    """Before this (time.monotonic()), a backoff holds its next try."""
    replies: list[Reply] = field(default_factory=list)
    """The replies to this try's MAIL, RCPT and DATA so far."""


class _Lost(Exception):
    """The connection failed under a read or a write."""


def envelope_address(address: str) -> bytes | None:
    """An address as it goes between < and > in MAIL or RCPT, or None when it cannot: not ASCII
    (digest never asks for SMTPUTF8), or holding a space, an angle bracket or a line break."""
    try:
        data = address.encode("ascii")
    except UnicodeEncodeError:
        return None
    return None if _UNSAFE_ADDRESS.search(data) else data


def _refusal(replies: list[Reply]) -> tuple[str, int, bytes] | None:
    """The first reply among `replies` (to MAIL, RCPT, DATA in turn) that is not the expected one,
    with its step."""
    for step, (code, text) in zip(STEPS, replies, strict=False):
        if code not in _EXPECTED[step]:
            return step, code, text
    return None


def _data(message: bytes) -> bytes:
    """The message as DATA carries it, up to its final ".": a "." that starts a line doubled
    (RFC 5321 4.5.2; after a bare line feed too, as smtplib does), ending with a line break."""
    if message.startswith(b"."):
        message = b"." + message
    if b"\n." in message:
        message = message.replace(b"\n.", b"\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message


class Conversation:
    """One connection: opened when a message needs it, then fed by the loop (`start`, `end`,
    `receive`, `flush`, `expire`), and closed at the end or when it breaks."""

    def __init__(
        self, relay: Relay, reported: Callable[[Result], None], rng: random.Random
    ) -> None:
        self.relay = relay
        self.reported = reported
        self.rng = rng
        self.timeout = relay.settings.smtp_timeout
        self.max_attempts = relay.settings.smtp_max_attempts
        self.smtp: Connection | None = None
        self.sock: socket.socket | None = None
        self.pipelining = False
        self.refused = False
        """Whether the last reply on this connection refused something."""
        self.failed_connects = 0
        self.paused_until = 0.0
        """A connection that could not be opened waits for its backoff."""
        self.awaiting: deque[tuple[str, Try]] = deque()
        """The replies written for and not yet read, in order, with the try each belongs to."""
        self.open: Try | None = None
        """The try whose 354 came and whose body went out, waiting for its "."."""
        self.queue: deque[Try] = deque()
        """Tries this connection takes before new ones: retries after their backoff, and tries
        that went back uncharged when a connection failed under them."""
        self._inbox = bytearray()
        self._lines: list[bytes] = []
        self._outbox: deque[memoryview] = deque()

    # --- what the loop asks ---

    @property
    def busy(self) -> bool:
        return bool(self.awaiting) or self.open is not None

    @property
    def writing(self) -> bool:
        return bool(self._outbox)

    def deadline(self) -> float | None:
        """When the oldest transaction in flight must be over."""
        if self.awaiting:
            return self.awaiting[0][1].started + self.timeout
        if self.open is not None:
            return self.open.started + self.timeout
        return None

    def connect(self, watchdog: Watchdog) -> None:
        """Open the connection (the relay's greeting, TLS and login, within the timeout); raises
        relay.Temporary or DeliveryError as `Relay.connect` does."""
        self.smtp = self.relay.connect(watchdog)
        self.sock = self.smtp.sock
        self.sock.setblocking(False)
        self.pipelining = self.smtp.has_extn("pipelining")
        self.refused = False
        self.failed_connects = 0

    def start(self, attempt: Try, now: float) -> None:
        """Write `attempt`'s MAIL (with RCPT and DATA when pipelining) on an idle connection."""
        self._begin(attempt, now)
        self._guarded(lambda: self._write(self._first_commands(attempt)))

    def end(self, following: Try | None, now: float) -> None:
        """Hand the open try over (its "."), with `following`'s commands when pipelining (else
        `following` waits at the front of the queue, uncharged)."""
        ending = self.open
        assert ending is not None
        self.open = None
        self.awaiting.append((END, ending))
        out = END_OF_DATA
        if following is not None and self.pipelining:
            self._begin(following, now)
            out += self._first_commands(following)
        elif following is not None:
            self.queue.appendleft(following)
        self._guarded(lambda: self._write(out))

    def receive(self) -> None:
        """Read what the relay sent and act on each whole reply."""
        self._guarded(self._receive)

    def flush(self) -> None:
        self._guarded(self._flush)

    def expire(self, stop_at: float | None) -> None:
        """Cut the connection if its oldest transaction is past its deadline (or the stop's
        grace, `stop_at`)."""
        deadline = self.deadline()
        if deadline is None:
            return
        by_stop = stop_at is not None and stop_at < deadline
        if time.monotonic() < (stop_at if by_stop and stop_at is not None else deadline):
            return
        if by_stop:
            self._broken(interrupted, stopped=True)
            return
        seconds = f"{self.timeout:g}"
        self._broken(lambda step: f"no answer within DIGEST_SMTP_TIMEOUT ({seconds} s) in {step}")

    def withdraw(self) -> None:
        """Hang up on the open try (only hanging up withdraws data under way); it stays
        unreported."""
        self.open = None
        self.abandon()

    def close(self, watchdog: Watchdog) -> None:
        """QUIT when nothing is under way, else just hang up; either way the connection ends."""
        if self.smtp is None:
            return
        if self.busy or self._outbox:
            self.abandon()
            return
        smtp, sock = self.smtp, self.sock
        self.smtp, self.sock = None, None
        if sock is not None:
            sock.settimeout(self.timeout)
        self.relay.close(smtp, watchdog)

    def abandon(self) -> None:
        """Hang up without QUIT; the tries still under way go back to the queue uncharged (a try
        only awaiting its RSET has had its verdict)."""
        pending: list[Try] = []
        for kind, attempt in self.awaiting:
            if kind != RSET and attempt not in pending:
                pending.append(attempt)
        if self.open is not None and self.open not in pending:
            pending.append(self.open)
        self.awaiting.clear()
        self.open = None
        self._outbox.clear()
        self._inbox.clear()
        self._lines.clear()
        if self.smtp is not None:
            self.smtp.close()
        self.smtp, self.sock = None, None
        for attempt in pending:
            attempt.attempts -= 1
        self.queue.extendleft(reversed(pending))

    # --- the conversation ---

    def _begin(self, attempt: Try, now: float) -> None:
        attempt.attempts += 1
        attempt.started = now
        attempt.replies = []

    def _first_commands(self, attempt: Try) -> bytes:
        if self.pipelining:
            self.awaiting.extend((step, attempt) for step in STEPS)
            return b"".join(attempt.commands)
        self.awaiting.append((MAIL, attempt))
        return attempt.commands[0]

    def _receive(self) -> None:
        sock = self.sock
        if sock is None:
            return
        while True:
            try:
                data = sock.recv(65536)
            except _WOULD_BLOCK:
                break
            if not data:
                raise _Lost("SMTPServerDisconnected: Connection unexpectedly closed")
            self._inbox += data
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                break
        for code, text in self._replies():
            if not self.awaiting:  # a reply to nothing (a relay closing an idle connection)
                raise _Lost(f"SMTPResponseException: unexpected reply {reply_text(code, text)}")
            kind, attempt = self.awaiting.popleft()
            self._answered(kind, attempt, code, text)
            if self.smtp is None:
                return

    def _replies(self) -> list[Reply]:
        """The whole replies in the inbox, taken out of it (as smtplib's getreply reads them)."""
        replies: list[Reply] = []
        inbox = self._inbox
        while (end := inbox.find(b"\n")) >= 0:
            line = bytes(inbox[: end + 1])
            del inbox[: end + 1]
            if len(line) > MAX_LINE:
                raise _Lost("SMTPResponseException: 500 Line too long.")
            self._lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
            else:
                if line[3:4] == b"-":
                    continue
            replies.append((code, b"\n".join(self._lines)))
            self._lines = []
        if len(inbox) > MAX_LINE:
            raise _Lost("SMTPResponseException: 500 Line too long.")
        return replies

    def _answered(self, kind: str, attempt: Try, code: int, text: bytes) -> None:
        if kind == END:
            self._ended(attempt, code, text)
        elif kind == RSET:
            if code != 250:
                self.abandon()
        else:
            attempt.replies.append((code, text))
            if self.pipelining:
                if len(attempt.replies) == len(STEPS):
                    self._envelope(attempt)
            elif code not in _EXPECTED[kind] or kind == DATA:
                self._envelope(attempt)
            else:
                following = STEPS[STEPS.index(kind) + 1]
                self.awaiting.append((following, attempt))
                self._write(attempt.commands[STEPS.index(following)])

    def _ended(self, attempt: Try, code: int, text: bytes) -> None:
        reply = reply_text(code, text)
        self.refused = not 200 <= code < 300
        if not self.refused:
            self.reported(Result(attempt.outgoing, True, attempt.attempts, reply))
        elif code >= 500:
            self.reported(Result(attempt.outgoing, False, attempt.attempts, reply))
        else:
            self._temporary(attempt, reply)
            if code == 421:
                self.abandon()

    def _envelope(self, attempt: Try) -> None:
        """Judge a try's replies to MAIL, RCPT and DATA: its body goes out after a 354, else the
        first refusal decides."""
        refusal = _refusal(attempt.replies)
        if refusal is None:
            self.refused = False
            self.open = attempt
            self._write(_data(attempt.outgoing.message))
            return
        code = self._refused(attempt, refusal)
        # A refused RCPT does not always stop DATA: after a 354 only hanging up ends it.
        waiting_for_data = len(attempt.replies) == len(STEPS) and attempt.replies[-1][0] == 354
        if code == 421 or waiting_for_data:
            self.abandon()
        else:
            self.awaiting.append((RSET, attempt))
            self._write(b"RSET\r\n")

    def _refused(self, attempt: Try, refusal: tuple[str, int, bytes]) -> int:
        """The verdict on a try its relay refused at `refusal`; returns the reply's code."""
        step, code, text = refusal
        reply = reply_text(code, text)
        self.refused = True
        if step == MAIL and code >= 500:
            self.abandon()
            raise DeliveryError(f"{self.relay.where}: sender {attempt.sender} refused ({reply})")
        if code >= 500:
            self.reported(Result(attempt.outgoing, False, attempt.attempts, reply))
        else:
            self._temporary(attempt, reply)
        return code

    def _temporary(self, attempt: Try, reply: str, *, stopped: bool = False) -> None:
        """A try that may pass: again after a backoff, unless it was the last or a stop cut it."""
        if stopped:
            self.reported(Result(attempt.outgoing, False, attempt.attempts, reply, True))
        elif attempt.attempts >= self.max_attempts:
            self.reported(Result(attempt.outgoing, False, attempt.attempts, reply))
        else:
            attempt.not_before = time.monotonic() + self.relay.backoff(attempt.attempts, self.rng)
            self.queue.append(attempt)

    def _broken(self, why: Why, *, stopped: bool = False) -> None:
        """The connection failed: the try whose reply was awaited is charged (by a refusal it
        already had, else by `why`), unless it never had the relay's ear (its MAIL met a
        connection gone after a refusal); the others go back uncharged."""
        charged: Try | None = self.open
        step = DATA
        if self.awaiting:
            kind, charged = self.awaiting[0]
            step = DATA if kind == END else kind
            if kind == RSET or (kind == MAIL and self.refused and not stopped):
                charged = None
        if charged is not None:
            self.awaiting = deque(entry for entry in self.awaiting if entry[1] is not charged)
            if self.open is charged:
                self.open = None
        self.abandon()
        if charged is None:
            return
        refusal = _refusal(charged.replies)
        if refusal is not None:
            self._refused(charged, refusal)
        else:
            self._temporary(charged, why(step), stopped=stopped)

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except _Lost as exc:
            reason = str(exc)
            self._broken(lambda _step: reason)
        except OSError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self._broken(lambda _step: reason)

    def _write(self, data: bytes) -> None:
        self._outbox.append(memoryview(data))
        self._flush()

    def _flush(self) -> None:
        sock = self.sock
        while self._outbox and sock is not None:
            view = self._outbox[0]
            try:
                sent = sock.send(view)
            except _WOULD_BLOCK:
                return
            if sent < len(view):
                self._outbox[0] = view[sent:]
                return
            self._outbox.popleft()
