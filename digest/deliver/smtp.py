"""The SMTP sender: a few long-lived connections, a shared rate limit, retries with backoff, and
commands pipelined where the relay offers it (`digest.deliver.conversation`).

One thread runs all the connections of a process as an event loop over non-blocking sockets: it
builds each message as a connection needs one, reads whatever replies arrived on any connection,
has the outcomes they carry recorded together (one commit for all the connections waiting on it),
then ends the messages that waited for that commit and starts the next ones. Sockets, not threads,
wait for the network: a message costs no handover between threads, which on a machine with few
cores costs more than the Python that builds it.

A message is reported to the caller as soon as the server answers the end of its data, and the
next message on that connection is only handed over once the caller has recorded it: that is what
bounds the repeats after a crash to one message per connection.

A connection that cannot be opened (a 4xx login failure included) is retried with backoff
without charging a message; when it still cannot be opened, or the server refuses our login, TLS
or sender address for good (5xx), the run stops with DeliveryError and every unsent message stays
pending for the next run. So does an error of the caller's (building a message, recording an
outcome): the messages in flight finish first, within the stop's grace.
"""

from __future__ import annotations

import random
import selectors
import threading
import time
from collections.abc import Callable, Iterator

from digest.config import Settings
from digest.deliver.conversation import Conversation, Try, envelope_address
from digest.deliver.deadlines import STOP_POLL, Watchdog
from digest.deliver.outgoing import Outgoing, Report, Result
from digest.deliver.relay import Relay, Temporary
from digest.errors import DeliveryError

SOURCE_REST = 0.05
"""Seconds before asking again for a message after the caller said none was ready (None)."""


class _Loop:
    """One run: the connections, the messages still to come, and the outcomes to record."""

    def __init__(
        self,
        sender: SmtpSender,
        messages: Iterator[Outgoing | None],
        report: Report,
        stop: threading.Event,
        watchdog: Watchdog,
    ) -> None:
        self.sender = sender
        self.relay = sender.relay
        self.messages = messages
        self.report = report
        self.stop = stop
        self.watchdog = watchdog
        self.grace = sender.settings.smtp_timeout / 2
        self.stop_at: float | None = None
        rng = random.Random()
        self.conversations = [
            Conversation(self.relay, self._reported, rng)
            for _ in range(sender.settings.smtp_connections)
        ]
        self.selector = selectors.DefaultSelector()
        self.watched: dict[Conversation, tuple[object, int]] = {}
        self.unsettled: list[Callable[[], None]] = []
        self.errors: list[BaseException] = []
        self.exhausted = False
        self.rest_until = 0.0

    def run(self) -> None:
        try:
            while True:
                if self.stop.is_set() and self.stop_at is None:
                    self.stop_at = time.monotonic() + self.grace
                self._guarded(self._start_idle)
                if self._finished():
                    break
                self._wait()
                self._guarded(self._end_open)
                self._guarded(self._expire)
        finally:
            try:
                self._guarded(self._settle)
            finally:
                for conversation in self.conversations:
                    conversation.close(self.watchdog)
                self.selector.close()
        if self.errors:
            raise self.errors[0]

    # --- feeding the connections ---

    def _start_idle(self) -> None:
        """Give every idle connection its next try, opening it if need be."""
        now = time.monotonic()
        for conversation in self.conversations:
            if conversation.busy or now < conversation.paused_until:
                continue
            attempt = self._next(conversation, now)
            if attempt is None:
                continue
            if conversation.smtp is None and not self._connect(conversation, attempt, now):
                continue
            if self._may_start(conversation, attempt, now):
                conversation.start(attempt, now)

    def _next(self, conversation: Conversation, now: float) -> Try | None:
        """The connection's own queue first (a retry whose backoff is over), else a new
        message; None when stopping or when none is ready."""
        if self.stop.is_set():
            return None
        if conversation.queue:
            if conversation.queue[0].not_before > now:
                return None
            return conversation.queue.popleft()
        if self.exhausted or now < self.rest_until:
            return None
        outgoing = next(self.messages, _END)
        if outgoing is _END:
            self.exhausted = True
            return None
        if outgoing is None:
            self.rest_until = now + SOURCE_REST
            return None
        assert isinstance(outgoing, Outgoing)
        return Try(outgoing)

    def _connect(self, conversation: Conversation, attempt: Try, now: float) -> bool:
        conversation.queue.appendleft(attempt)
        try:
            conversation.connect(self.watchdog)
        except Temporary as exc:
            if exc.stopped:
                return False
            conversation.failed_connects += 1
            if conversation.failed_connects >= self.relay.settings.smtp_max_attempts:
                raise DeliveryError(
                    f"{self.relay.where}: cannot connect after {conversation.failed_connects} "
                    f"tries ({exc.reply})"
                ) from None
            conversation.paused_until = now + self.relay.backoff(
                conversation.failed_connects, conversation.rng
            )
            return False
        conversation.queue.popleft()
        return True

    def _may_start(self, conversation: Conversation, attempt: Try, now: float) -> bool:
        """Whether `attempt` may go out now: the rate limit (else it waits, uncharged), its lease
        (else it is dropped, unreported), addresses fit for the envelope (a bad recipient is
        recorded as failed; a bad sender stops the run)."""
        wait = self.relay.rate.wait_for(now)
        if wait:
            attempt.not_before = now + wait
            conversation.queue.appendleft(attempt)
            return False
        outgoing = attempt.outgoing
        if outgoing.lease is not None and not outgoing.lease.holds(outgoing.key):
            return False
        attempt.sender = outgoing.envelope_from or self.sender.envelope_from
        mail_from, rcpt_to = envelope_address(attempt.sender), envelope_address(outgoing.recipient)
        if mail_from is None:
            raise DeliveryError(
                f"{self.relay.where}: {attempt.sender!r} cannot be an SMTP envelope sender "
                "(ASCII only, no spaces or angle brackets)"
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

    # --- the network ---

    def _wait(self) -> None:
        """Wait for replies (or room to write) on any connection, until the next deadline,
        backoff or look at the stop request; act on what came."""
        timeout = self._timeout()
        for conversation in self.conversations:
            self._watch(conversation)
        if not self.watched:
            if timeout > 0:
                self.stop.wait(timeout)
            return
        for key, events in self.selector.select(timeout):
            conversation = key.data
            assert isinstance(conversation, Conversation)
            if events & selectors.EVENT_WRITE:
                conversation.flush()
            if events & selectors.EVENT_READ:
                self._guarded(conversation.receive)

    def _timeout(self) -> float:
        now = time.monotonic()
        wake = now + STOP_POLL
        for conversation in self.conversations:
            deadline = conversation.deadline()
            if deadline is not None:
                wake = min(wake, deadline)
                continue
            if self.stop.is_set():
                continue
            if conversation.queue:
                wake = min(wake, max(conversation.queue[0].not_before, conversation.paused_until))
            elif not self.exhausted:
                wake = min(wake, max(self.rest_until, conversation.paused_until))
        if self.stop_at is not None:
            wake = min(wake, self.stop_at)
        return max(0.0, wake - now)

    def _watch(self, conversation: Conversation) -> None:
        """Keep the selector in step with the connection: gone, reading, or reading and
        writing."""
        watched = self.watched.get(conversation)
        sock = conversation.sock
        if watched is not None and watched[0] is not sock:
            self.selector.unregister(watched[0])  # type: ignore[arg-type]
            del self.watched[conversation]
            watched = None
        if sock is None:
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conversation.writing else 0)
        if watched is None:
            self.selector.register(sock, events, conversation)
        elif watched[1] != events:
            self.selector.modify(sock, events, conversation)
        self.watched[conversation] = (sock, events)

    # --- outcomes ---

    def _reported(self, result: Result) -> None:
        pending = self.report(result)
        if pending is not None:
            self.unsettled.append(pending)

    def _settle(self) -> None:
        unsettled, self.unsettled = self.unsettled, []
        for pending in unsettled:
            pending()

    def _end_open(self) -> None:
        """Once the outcomes read are recorded, hand over each message waiting for its "." (the
        next message's commands go with it), or withdraw it when the send was stopped or its
        lease lapsed meanwhile."""
        waiting = [c for c in self.conversations if c.open is not None and not c.awaiting]
        if not waiting:
            return
        self._settle()
        now = time.monotonic()
        for conversation in waiting:
            ending = conversation.open
            assert ending is not None
            lease = ending.outgoing.lease
            if self.stop.is_set() or (lease is not None and not lease.holds(ending.outgoing.key)):
                conversation.withdraw()
                continue
            following = self._next(conversation, now) if conversation.pipelining else None
            if following is not None and not self._may_start(conversation, following, now):
                following = None
            conversation.end(following, now)

    def _expire(self) -> None:
        """Cut the connections past their deadline (or the stop's grace); a reply that came
        while this loop was busy elsewhere still counts."""
        for conversation in self.conversations:
            deadline = conversation.deadline()
            if deadline is None:
                continue
            if self.stop_at is not None:
                deadline = min(deadline, self.stop_at)
            if time.monotonic() >= deadline:
                conversation.receive()
                conversation.expire(self.stop_at)

    def _finished(self) -> bool:
        if any(conversation.busy for conversation in self.conversations):
            return False
        if self.stop.is_set():
            return True
        return self.exhausted and not any(c.queue for c in self.conversations)

    def _guarded(self, action: Callable[[], None]) -> None:
        """Run `action`; an error (the caller's, or one that stops the run) stops taking new
        messages, and is raised once the messages in flight are done."""
        try:
            action()
        except Exception as exc:
            self.errors.append(exc)
            self.unsettled.clear()
            self.stop.set()


_END = object()


class SmtpSender:
    """Sends a stream of messages over DIGEST_SMTP_CONNECTIONS connections."""

    def __init__(self, settings: Settings, envelope_from: str) -> None:
        self.settings = settings
        self.envelope_from = envelope_from
        self.relay = Relay(settings)
        self.where = self.relay.where

    def run(
        self, messages: Iterator[Outgoing | None], report: Report, stop: threading.Event
    ) -> None:
        """Send every message (`messages` yields None while none is ready yet: asked again
        shortly); return when all are reported, or when `stop` is set: then the messages in
        flight get half of DIGEST_SMTP_TIMEOUT to finish, and those cut are reported as
        interrupted. Raises DeliveryError when the run cannot go on."""
        with Watchdog(stop, grace=self.settings.smtp_timeout / 2) as watchdog:
            _Loop(self, messages, report, stop, watchdog).run()
