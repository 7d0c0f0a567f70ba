"""The SMTP sender: a few long-lived connections, a shared rate limit, retries with backoff, and
commands pipelined where the relay allows it (`digest.deliver.conversation`).

Each connection runs in its own thread (smtplib is blocking, and the time goes to the network and
to the server, not to Python). One more thread builds the messages (claims, personalisation) a
few ahead of the connections, so a connection with a message in flight never waits for a claim or
a build, and the building overlaps the network. A message is reported to the caller as soon as
the server answers the end of its data, and the next message on that connection is only handed
over once the caller has recorded it: that is what bounds the repeats after a crash to one
message per connection.

A connection that cannot be opened (a 4xx login failure included) is retried with backoff
without charging a message; when it still cannot be opened, or the server refuses our login, TLS
or sender address for good (5xx), the run stops with DeliveryError and every unsent message stays
pending for the next run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from digest.config import Settings
from digest.deliver.conversation import Conversation
from digest.deliver.deadlines import STOP_POLL, Watchdog
from digest.deliver.outgoing import Outgoing, Report
from digest.deliver.relay import Relay


class _Feed:
    """Messages built ahead by a thread of their own, for the connections to take."""

    def __init__(
        self,
        messages: Iterator[Outgoing],
        stop: threading.Event,
        errors: list[BaseException],
        ahead: int,
    ) -> None:
        self._messages = messages
        self._stop = stop
        self._errors = errors
        self._ready: queue.Queue[Outgoing | None] = queue.Queue(maxsize=ahead)
        self._thread = threading.Thread(target=self._fill, name="digest-smtp-feed", daemon=True)

    def __enter__(self) -> _Feed:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._thread.join()

    def _halted(self) -> bool:
        return self._stop.is_set() or bool(self._errors)

    def _put(self, item: Outgoing | None) -> bool:
        while not self._halted():
            try:
                self._ready.put(item, timeout=STOP_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self) -> None:
        try:
            while not self._halted():
                outgoing = next(self._messages, None)
                if outgoing is None or not self._put(outgoing):
                    break
        except BaseException as exc:
            self._errors.append(exc)
            self._stop.set()
        finally:
            self._put(None)

    def take(self, block: bool) -> Outgoing | None:
        """The next message; None when none is left or the run stops, and, without `block`, when
        none is ready at once."""
        while not self._halted():
            try:
                item = self._ready.get(timeout=STOP_POLL) if block else self._ready.get_nowait()
            except queue.Empty:
                if block:
                    continue
                return None
            if item is None:  # the end, left in place for the other connections
                self._ready.put_nowait(None)
            return item
        return None


class SmtpSender:
    """Sends a stream of messages over DIGEST_SMTP_CONNECTIONS connections."""

    def __init__(self, settings: Settings, envelope_from: str) -> None:
        self.settings = settings
        self.envelope_from = envelope_from
        self.relay = Relay(settings)
        self.where = self.relay.where

    def run(self, messages: Iterator[Outgoing], report: Report, stop: threading.Event) -> None:
        """Send every message; return when all are reported, or when `stop` is set: then the
        messages in flight get half of DIGEST_SMTP_TIMEOUT to finish, and those cut are reported
        as interrupted. Raises DeliveryError when the run cannot go on."""
        errors: list[BaseException] = []
        connections = self.settings.smtp_connections
        with (
            Watchdog(stop, grace=self.settings.smtp_timeout / 2) as watchdog,
            _Feed(messages, stop, errors, ahead=connections) as feed,
        ):

            def work() -> None:
                conversation = Conversation(
                    self.relay, self.envelope_from, feed.take, report, stop, watchdog
                )
                try:
                    conversation.run()
                except BaseException as exc:
                    errors.append(exc)
                    stop.set()

            threads = [
                threading.Thread(target=work, name=f"digest-smtp-{n}", daemon=True)
                for n in range(connections)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
