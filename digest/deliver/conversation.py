"""One connection's share of a run: the messages it takes, each to its final answer, pipelined
(RFC 2920) when the server offers PIPELINING and one command at a time when it does not.

A message goes through two steps on its connection:
- its start: MAIL, RCPT and DATA, then, after the 354, its body without the "." that ends it;
- its end: the ".", which hands it over, and the server's final reply.
With PIPELINING the end of one message and the start of the next share a write (".", MAIL, RCPT,
DATA) and their four replies are read together: one round trip per message. The "." goes out
only once the previous message's outcome is recorded and this one's lease still holds, so the
commit overlaps the transfer of the body and a connection never has more than one message in the
relay's hands that the ledger may not know of. A message withdrawn there (the send was stopped, or
its lease lapsed) is withdrawn by hanging up: data that never ended is never delivered.

Failure policy:
- a 2xx to the end of data: accepted;
- a 5xx to RCPT, DATA or the end of data: this recipient failed for good, recorded, the send goes
  on;
- a 4xx, a timeout, a dropped connection or any other exception smtplib raises on any command
  (a RSET that finds the connection closed after a 452 or 554 included): tried again after an
  exponential backoff with jitter, up to DIGEST_SMTP_MAX_ATTEMPTS, then recorded as failed with the
  last reply; a connection that may be broken (a 421, an exception) is closed and reopened. A try
  is charged to the message whose reply was awaited when it failed: a message pipelined behind it
  goes again uncharged, and so does one whose commands found the connection gone right after the
  server refused the message before it (relays hang up after a refusal);
- a 5xx to MAIL: the relay refuses our sender, which stops the run (DeliveryError);
- each message's transaction, from its MAIL to its final reply (the wait for the previous commit
  included), must be over within DIGEST_SMTP_TIMEOUT, or the watchdog cuts the connection.
"""

from __future__ import annotations

import random
import re
import smtplib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from digest.deliver.deadlines import Connection, Watchdog
from digest.deliver.outgoing import Outgoing, Report, Result
from digest.deliver.relay import Relay, Temporary, cut_reply, reply_text
from digest.errors import DeliveryError

STEPS = ("MAIL", "RCPT", "DATA")
_EXPECTED = {"MAIL": (250,), "RCPT": (250, 251), "DATA": (354,)}
END_OF_DATA = b".\r\n"
_UNSAFE_ADDRESS = re.compile(rb"[\x00-\x20<>\x7f]")

Take = Callable[[bool], Outgoing | None]
"""The next message for this connection; with False, only one that is ready at once. None when
there is none (with True: none left, or the run is stopping)."""


@dataclass(slots=True)
class _Try:
    """A message on its way through this connection."""

    outgoing: Outgoing
    commands: tuple[bytes, bytes, bytes] = (b"", b"", b"")
    attempts: int = 0
    started: float = 0.0
    """When its current try's MAIL went out: its transaction's deadline counts from there."""
    not_before: float = 0.0
    """Before this (time.monotonic()), a temporary failure's backoff holds its next try."""


def _address(address: str) -> bytes | None:
    """An address as it goes between < and > in MAIL or RCPT, or None when it cannot: not ASCII
    (digest never asks for SMTPUTF8), or holding a space, an angle bracket or a line break."""
    try:
        data = address.encode("ascii")
    except UnicodeEncodeError:
        return None
    return None if _UNSAFE_ADDRESS.search(data) else data


def _refusal(replies: list[tuple[int, bytes]]) -> tuple[str, int, bytes] | None:
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
    """One connection's thread: takes messages until none is left or the run stops."""

    def __init__(
        self,
        relay: Relay,
        envelope_from: str,
        take: Take,
        report: Report,
        stop: threading.Event,
        watchdog: Watchdog,
    ) -> None:
        self.relay = relay
        self.envelope_from = envelope_from
        self.take = take
        self.report = report
        self.stop = stop
        self.watchdog = watchdog
        self.timeout = relay.settings.smtp_timeout
        self.max_attempts = relay.settings.smtp_max_attempts
        self.rng = random.Random()
        self.smtp: Connection | None = None
        self.pipelining = False
        self.refused = False
        """Whether the last reply on this connection refused something (a relay may hang up
        after it)."""
        self.open: _Try | None = None
        """The message whose 354 came and whose body went out, waiting for its "."."""
        self.retries: deque[_Try] = deque()
        self.unsettled: list[Callable[[], None]] = []
        """Recordings of outcomes reported and not yet awaited (at most one in the normal
        course); awaited before the next "." and before the next report."""

    def run(self) -> None:
        try:
            while (following := self._next()) is not None or self.open is not None:
                self._step(following)
        finally:
            try:
                self._settle()
            finally:
                if self.open is not None:
                    self._drop()
                self.relay.close(self.smtp, self.watchdog)

    # --- what to send next ---

    def _next(self) -> _Try | None:
        """A retry whose backoff is over (waited for when nothing is in flight), else a new
        message; None when stopping, when none is left, or, with a message in flight, when none
        is ready at once (the one in flight is then finished first)."""
        if self.stop.is_set():
            return None
        if self.retries:
            wait = self.retries[0].not_before - time.monotonic()
            if wait > 0 and (self.open is not None or self.stop.wait(wait)):
                return None
            return self.retries.popleft()
        outgoing = self.take(self.open is None)
        return None if outgoing is None else _Try(outgoing)

    def _step(self, following: _Try | None) -> None:
        """End the message in flight, if any, and start `following`, if any (pipelined: in one
        round trip)."""
        ending, self.open = self.open, None
        if following is not None and not self._may_start(following):
            following = None
        written = False
        if ending is not None:
            if not self._end(ending, following):
                if following is not None:
                    self.retries.appendleft(following)
                return
            written = following is not None and self.pipelining
        if following is None:
            return
        if not written and self.stop.is_set():
            self.retries.appendleft(following)
            return
        self._start(following, written)

    def _may_start(self, attempt: _Try) -> bool:
        """Whether `attempt` may go out now: a connection (opened if need be), the rate limit
        waited for, no stop, its lease held, addresses fit for the envelope. A message that may
        not is dropped unreported, except a bad recipient, recorded as failed."""
        if self.smtp is None and not self._connect():
            return False
        self.relay.rate.wait(self.stop)
        if self.stop.is_set():
            return False
        outgoing = attempt.outgoing
        if outgoing.lease is not None and not outgoing.lease.holds(outgoing.key):
            return False
        sender = outgoing.envelope_from or self.envelope_from
        mail_from, rcpt_to = _address(sender), _address(outgoing.recipient)
        if mail_from is None:
            raise DeliveryError(
                f"{self.relay.where}: {sender!r} cannot be an SMTP envelope sender (ASCII only, "
                "no spaces or angle brackets)"
            )
        if rcpt_to is None:
            reply = f"not sent: {outgoing.recipient!r} cannot be an SMTP envelope recipient"
            self._reported(Result(outgoing, False, attempt.attempts, reply))
            return False
        attempt.commands = (
            b"MAIL FROM:<%s>\r\n" % mail_from,
            b"RCPT TO:<%s>\r\n" % rcpt_to,
            b"DATA\r\n",
        )
        return True

    def _connect(self) -> bool:
        """Open a connection, trying again with backoff; False when a stop came first."""
        failures = 0
        while True:
            try:
                self.smtp = self.relay.connect(self.watchdog)
            except Temporary as exc:
                if exc.stopped:
                    return False
                failures += 1
                if failures >= self.max_attempts:
                    raise DeliveryError(
                        f"{self.relay.where}: cannot connect after {failures} tries ({exc.reply})"
                    ) from None
                if self.stop.wait(self.relay.backoff(failures, self.rng)):
                    return False
                continue
            self.pipelining = self.smtp.has_extn("pipelining")
            self.refused = False
            return True

    # --- a message's two steps ---

    def _end(self, ending: _Try, following: _Try | None) -> bool:
        """Hand `ending` over (its ".", with `following`'s commands when pipelining) and read its
        final reply. False when the connection is gone: then `ending` was withdrawn (unreported)
        or follows the retry rules, and `following` had no try."""
        smtp = self._connection()
        pipelined = following is not None and self.pipelining
        with self.watchdog.limit(smtp, self.timeout, ending.started) as deadline:
            if not self._settled(ending):
                self._drop()
                return False
            out = END_OF_DATA
            if following is not None and pipelined:
                out += b"".join(following.commands)
                following.attempts += 1
                following.started = time.monotonic()
            try:
                smtp.send(out)
                code, text = self._reply(smtp, "DATA")
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                reply, stopped = cut_reply(exc, "DATA", deadline)
                self._temporary(ending, reply, stopped=stopped)
                if following is not None and pipelined:
                    following.attempts -= 1
                return False
        reply = reply_text(code, text)
        self.refused = not 200 <= code < 300
        if not self.refused:
            self._reported(Result(ending.outgoing, True, ending.attempts, reply))
        elif code >= 500:
            self._reported(Result(ending.outgoing, False, ending.attempts, reply))
        else:
            self._temporary(ending, reply)
            if code == 421:
                self._drop()
                if following is not None and pipelined:
                    following.attempts -= 1
                return False
        return True

    def _start(self, attempt: _Try, written: bool) -> None:
        """`attempt`'s MAIL, RCPT and DATA (already written when pipelined behind the previous
        message's end) to the 354, then its body; it is then the message in flight."""
        smtp = self._connection()
        if not written:
            attempt.attempts += 1
            attempt.started = time.monotonic()
        replies: list[tuple[int, bytes]] = []
        with self.watchdog.limit(smtp, self.timeout, attempt.started) as deadline:
            try:
                if self.pipelining:
                    if not written:
                        smtp.send(b"".join(attempt.commands))
                    for step in STEPS:
                        replies.append(self._reply(smtp, step))
                else:
                    for step, command in zip(STEPS, attempt.commands, strict=True):
                        smtp.send(command)
                        replies.append(self._reply(smtp, step))
                        if replies[-1][0] not in _EXPECTED[step]:
                            break
                if len(replies) == len(STEPS) and _refusal(replies) is None:
                    smtp.send(_data(attempt.outgoing.message))
                    self.open = attempt
                    self.refused = False
                    return
            except (smtplib.SMTPException, OSError) as exc:
                failed = STEPS[min(len(replies), len(STEPS) - 1)]
                self._failed_start(attempt, replies, cut_reply(exc, failed, deadline))
                return
            self._failed_start(attempt, replies, None)

    def _failed_start(
        self, attempt: _Try, replies: list[tuple[int, bytes]], broke: tuple[str, bool] | None
    ) -> None:
        """Judge a start that did not reach its body: by the first refusal among `replies`, or,
        when none was read, by what broke the connection (`broke`: its reply and whether a stop
        did it)."""
        refusal = _refusal(replies)
        if refusal is None:
            assert broke is not None
            self._drop()
            reply, stopped = broke
            if not replies and self.refused and not stopped:
                attempt.attempts -= 1  # it never had the relay's ear: it hung up after a refusal
                self.retries.appendleft(attempt)
            else:
                self._temporary(attempt, reply, stopped=stopped)
            return
        step, code, text = refusal
        reply = reply_text(code, text)
        self.refused = True
        if step == "MAIL" and code >= 500:
            self._drop()
            sender = attempt.outgoing.envelope_from or self.envelope_from
            raise DeliveryError(f"{self.relay.where}: sender {sender} refused ({reply})")
        # A refused RCPT does not always stop DATA: a 354 then leaves only hanging up.
        waiting_for_data = len(replies) == len(STEPS) and replies[-1][0] == 354
        if code == 421 or broke is not None or waiting_for_data or not self._reset():
            self._drop()
        if code >= 500:
            self._reported(Result(attempt.outgoing, False, attempt.attempts, reply))
        else:
            self._temporary(attempt, reply)

    # --- outcomes ---

    def _temporary(self, attempt: _Try, reply: str, *, stopped: bool = False) -> None:
        """A try that may pass: again after a backoff, unless it was the last or a stop cut it."""
        if stopped:
            self._reported(Result(attempt.outgoing, False, attempt.attempts, reply, True))
        elif attempt.attempts >= self.max_attempts:
            self._reported(Result(attempt.outgoing, False, attempt.attempts, reply))
        else:
            attempt.not_before = time.monotonic() + self.relay.backoff(attempt.attempts, self.rng)
            self.retries.append(attempt)

    def _reported(self, result: Result) -> None:
        self._settle()
        pending = self.report(result)
        if pending is not None:
            self.unsettled.append(pending)

    def _settle(self) -> None:
        while self.unsettled:
            self.unsettled.pop()()

    def _settled(self, attempt: _Try) -> bool:
        """Wait for the previous outcome's recording; whether `attempt` may still be handed over
        (no stop was asked meanwhile, its lease holds)."""
        self._settle()
        if self.stop.is_set():
            return False
        lease = attempt.outgoing.lease
        return lease is None or lease.holds(attempt.outgoing.key)

    # --- the connection ---

    def _connection(self) -> Connection:
        assert self.smtp is not None
        return self.smtp

    @staticmethod
    def _reply(smtp: Connection, step: str) -> tuple[int, bytes]:
        code, text = smtp.getreply()
        if smtp.was_cut:  # a reply read from a cut connection may be a fragment that looks whole
            raise smtplib.SMTPServerDisconnected(f"connection cut during {step}")
        return code, text

    def _reset(self) -> bool:
        """RSET after a refused step; False when the connection did not survive it."""
        try:
            code, _text = self._connection().rset()
        except (smtplib.SMTPException, OSError):
            return False
        return code == 250

    def _drop(self) -> None:
        """Hang up without QUIT: the connection is broken, or in the middle of DATA."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None
            self.open = None
