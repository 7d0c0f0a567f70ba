"""One sender's part in a send: it claims batches of the issue's pending rows, turns them into
messages for the SMTP sender, and records each outcome where its claim holds.

Every process that sends takes part the same way, registered in the state database with a
heartbeat (`Presence`): `digest send`, the scheduler, and `digest worker` on any machine sharing
the database. So a second send of the same issue helps with the rows nobody holds instead of
mailing anyone twice, and waits for the rows others hold before it calls the issue done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType

import sqlalchemy as sa

from digest.audience.mailbox.verp import Verp, verp_for
from digest.audience.store import SubscriberStore
from digest.config import Settings
from digest.deliver.outgoing import Outgoing, Report, Result
from digest.errors import DeliveryError
from digest.message import MessageTemplate
from digest.models import Recipient
from digest.state.claims import Claims, Lease
from digest.state.engine import brief, retrying
from digest.state.ledger import Ledger, Outcome, Recorder
from digest.state.schema import FAILED, PENDING, SENT
from digest.state.workers import Role, heard, register, unregister
from digest.tokens import TokenSigner, signer

log = logging.getLogger("digest.deliver")

MAX_POLL = 2.0
"""Longest wait between two looks for rows to claim while other senders hold the rest."""
FIRST_POLL = 0.05
"""First wait: at the end of a send the others' last batches are usually seconds from done, so the
waits start short and double up to the longest (a sender done early left idle for a whole poll
made two workers barely faster than one). Shorter would change nothing: the sender asks again
only every SOURCE_REST (digest/deliver/smtp.py) after being told none is ready."""
HEARTBEAT = 10.0
"""Longest time between two heartbeats (shorter when the lease is short: a quarter of it)."""


class Presence:
    """This process as a sender: its row in `send_workers`, kept fresh by a heartbeat thread that
    also renews the lease on every row it holds."""

    def __init__(self, ledger: Ledger, settings: Settings, role: Role) -> None:
        self.ledger = ledger
        self.settings = settings
        self.id = register(ledger.engine, role)
        self.lease = Lease(settings.send_lease, settings.handover_margin)
        self.interval = min(HEARTBEAT, settings.send_lease / 4)
        self._issue: str | None = None
        self._claims: Claims | None = None
        self._counts = {SENT: 0, FAILED: 0}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="digest-heartbeat", daemon=True)

    def __enter__(self) -> Presence:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._thread.join()
        retrying(lambda: unregister(self.ledger.engine, self.id), within=self.settings.send_lease)

    def join(self, issue: str) -> Claims:
        """Start taking part in the send of `issue`."""
        claims = Claims(
            self.ledger.engine,
            issue,
            self.id,
            batch=self.settings.send_batch,
            lease=self.lease,
        )
        with self._lock:
            self._issue, self._claims = issue, claims
            self._counts = {SENT: 0, FAILED: 0}
        self.beat()
        return claims

    def lead(self, issue: str) -> None:
        """Say this process leads the send of `issue` (workers join a send only while its lead
        lives), before it claims anything."""
        with self._lock:
            self._issue = issue
        self.beat()

    def leave(self) -> None:
        with self._lock:
            self._issue, self._claims = None, None
        self.beat()

    def count(self, status: str) -> None:
        with self._lock:
            self._counts[status] += 1

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def beat(self) -> None:
        """Renew the lease on what this sender holds and say it is alive."""
        with self._lock:
            issue, claims, counts = self._issue, self._claims, dict(self._counts)
        if claims is not None:
            claims.renew()

        def say() -> None:
            with self.ledger.engine.begin() as conn:
                heard(
                    conn,
                    self.id,
                    issue=issue,
                    batches=claims.batches if claims else 0,
                    sent=counts[SENT],
                    failed=counts[FAILED],
                )

        retrying(say, within=self.settings.send_lease)

    def _beat(self) -> None:
        wait = self.interval
        while not self._closing.wait(wait):
            try:
                self.beat()
                wait = self.interval
            except sa.exc.SQLAlchemyError as exc:
                log.warning("state database: heartbeat failed, trying again (%s)", brief(exc))
                wait = min(1.0, self.interval)


class Part:
    """What one sender needs to send its claimed rows of an issue."""

    def __init__(
        self,
        template: MessageTemplate,
        tokens: TokenSigner,
        audience: SubscriberStore,
        poll: float,
        verp: Verp | None = None,
    ) -> None:
        self.template = template
        self.tokens = tokens
        self.audience = audience
        """Asked, batch by batch, who left (unsubscribed, bounced, complained) since listed."""
        self.poll = poll
        self.verp = verp
        """With VERP each message's envelope sender names its row, so a bounce names its
        recipient."""

    @classmethod
    def configured(cls, template: MessageTemplate, settings: Settings, ledger: Ledger) -> Part:
        """The part of a sender configured by `settings`, asking `ledger`'s database who left."""
        return cls(
            template,
            signer(settings),
            SubscriberStore(ledger.engine),
            poll=min(MAX_POLL, settings.send_lease / 20),
            verp=verp_for(settings),
        )


@dataclass
class PartDone:
    """What one sender did in a send: sent, failed, and the messages a stop cut in flight (they
    stay pending), each with what the relay may have."""

    sent: int = 0
    failed: int = 0
    cut: list[str] = field(default_factory=list)


def help_send(
    presence: Presence,
    issue: str,
    part: Part,
    run: Callable[[Iterator[Outgoing | None], Report], None],
    stop: threading.Event,
    advance: Callable[[Result], None],
    *,
    keep_going: Callable[[], bool] = lambda: True,
) -> PartDone:
    """Claim, send and record rows of `issue` until none is left to anyone, `stop`, or (asked
    before each batch) `keep_going()` says no. `run` is the transport's `run` with its stop
    bound."""
    ledger = presence.ledger
    claims = presence.join(issue)
    recorder = Recorder(ledger, presence.id, patience=presence.settings.send_lease)
    cut: list[str] = []

    def record(result: Result) -> Callable[[], None]:
        """Hand the outcome to the recorder; the connection waits for it before its next DATA
        (`digest.deliver.smtp.Report`), and only then is it counted."""
        outgoing = result.outgoing
        status = PENDING if result.interrupted else SENT if result.accepted else FAILED
        committed = recorder.submit(
            Outcome(outgoing.key, status, result.attempts, result.reply, outgoing.message_id)
        )

        def settle() -> None:
            committed()
            claims.settle([outgoing.key])
            if result.interrupted:
                cut.append(f"{outgoing.recipient}: {result.reply}")
                return
            presence.count(status)
            advance(result)

        return settle

    try:
        run(_messages(ledger, claims, part, recorder, presence, stop, keep_going), record)
    finally:
        recorder.close()
        claims.release()
        presence.leave()
    counts = presence.counts
    return PartDone(sent=counts[SENT], failed=counts[FAILED], cut=cut)


def _messages(
    ledger: Ledger,
    claims: Claims,
    part: Part,
    recorder: Recorder,
    presence: Presence,
    stop: threading.Event,
    keep_going: Callable[[], bool],
) -> Iterator[Outgoing | None]:
    """Claimed rows as finished messages, batch after batch. A row whose message cannot be built
    is recorded as failed; an address that left since it was listed loses its row. When nothing
    is free but others still hold rows, wait for them (they finish, or their lease runs out and
    their rows come back): None says so to the sender, which goes on with its messages in
    flight and asks again."""
    lease = claims.lease
    waiting, poll = False, FIRST_POLL
    while not stop.is_set() and keep_going():
        rows = claims.claim()
        if not rows:
            if claims.pending() == 0:
                return
            if not waiting:
                log.info("Issue %s: other senders hold the rows left; waiting", claims.issue)
                waiting, poll = True, min(FIRST_POLL, part.poll)
            else:
                poll = min(poll * 2, part.poll)
            look_again = time.monotonic() + poll
            while time.monotonic() < look_again and not stop.is_set():
                yield None
            continue
        waiting = False
        dropped: list[str] = []
        patience = claims.lease.seconds
        emails = [row.email for row in rows]
        left = retrying(partial(part.audience.left_among, emails), within=patience)
        try:
            for index, row in enumerate(rows):
                if stop.is_set() or not lease.valid():
                    lease.give_back(later.id for later in rows[index:])
                    break
                key = row.email.lower()
                if key in left:
                    dropped.append(key)
                    continue
                message_id = part.template.message_id(row.email)
                try:
                    message = part.template.personalise(
                        Recipient(email=row.email, name=row.name, token=part.tokens.sign(row.email))
                    )
                except DeliveryError as exc:
                    recorder.record(Outcome(row.id, FAILED, 0, f"not sent: {exc}", message_id))
                    claims.settle([row.id])
                    presence.count(FAILED)
                    continue
                verp = part.verp.sender(row.id) if part.verp is not None else ""
                yield Outgoing(
                    row.id, row.email, message, message_id, envelope_from=verp, lease=lease
                )
        finally:
            retrying(partial(ledger.remove_pending, claims.issue, dropped), within=patience)
