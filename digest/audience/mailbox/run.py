"""One pass over the bounce mailbox: every message not handled yet is read, turned into the status
it asks for, and marked, so no later pass reads it again; a message that is no bounce, complaint
or unsubscribe request is left as it was, and counted.

A message left alone is remembered (`seen`), so later passes do not even download it again.

The order makes a pass safe to interrupt anywhere: the event is stored (once per message and
address, by the message's SHA-256), the status is set (which never undoes a stronger one), and only
then is the message marked. A pass killed before the mark reads the message again next time, and
changes nothing twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.audience.mailbox import events
from digest.audience.mailbox.classify import Event, Kind, Readers, Target, Verdict, classify
from digest.audience.mailbox.folders import Letter, Mailbox
from digest.audience.mailbox.imap import ImapMailbox
from digest.audience.mailbox.location import ImapLocation, parse_location
from digest.audience.mailbox.maildir import MaildirMailbox
from digest.audience.mailbox.seen import Seen
from digest.audience.mailbox.verp import verp_for
from digest.audience.status import BOUNCED, COMPLAINED, Status
from digest.audience.store import SubscriberStore
from digest.config import Settings
from digest.errors import ConfigError
from digest.state.schema import utcnow
from digest.tokens import signer

log = logging.getLogger("digest.mailbox")

_EVENT_NAMES = {
    Event.PERMANENT: "a permanent bounce",
    Event.TEMPORARY: "a temporary bounce",
    Event.COMPLAINT: "a complaint",
}


class MailboxSummary(BaseModel):
    """What one pass did; the CLI and the scheduler print `line`."""

    model_config = ConfigDict(extra="forbid")

    mailbox: str
    read: int = 0
    permanent: int = 0
    temporary: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    bounced: int = 0
    """Addresses that became `bounced` in this pass (a permanent failure, or one temporary failure
    too many)."""
    complained: int = 0
    not_subscribers: int = 0
    left_alone: int = 0
    left_before: int = 0
    """Messages an earlier pass read and left alone: not downloaded again (`seen`)."""
    seconds: float = 0.0

    @property
    def handled(self) -> int:
        return self.read - self.left_alone

    @property
    def line(self) -> str:
        return (
            f"Mailbox {self.mailbox}: {self.read} read, {self.handled} handled, {self.left_alone} "
            f"left alone (no bounce, complaint or unsubscribe digest can act on), "
            f"{self.left_before} left alone before and not read again. Bounces: "
            f"{self.permanent} permanent, {self.temporary} temporary; complaints: "
            f"{self.complaints}; unsubscribes: {self.unsubscribes}. Now bounced: {self.bounced}; "
            f"now complained: {self.complained}; named but not subscribers: "
            f"{self.not_subscribers} ({self.seconds:.1f}s)."
        )


def open_mailbox(settings: Settings) -> Mailbox:
    """The mailbox of DIGEST_MAILBOX_URL, not yet connected."""
    url = settings.mailbox_url.get_secret_value().strip()
    if not url:
        raise ConfigError(
            "DIGEST_MAILBOX_URL: not set (imaps://user:password@host/INBOX or a Maildir path)"
        )
    location = parse_location(url)
    folder = settings.mailbox_done_folder
    if isinstance(location, ImapLocation):
        return ImapMailbox(location, ca_file=settings.mailbox_ca_file, done_folder=folder)
    return MaildirMailbox(location.path, done_folder=folder)


def readers(settings: Settings) -> Readers:
    return Readers(unsubscribe=signer(settings).verify, verp=verp_for(settings))


@dataclass
class _Pass:
    settings: Settings
    engine: Engine
    readers: Readers
    now: dt.datetime
    summary: MailboxSummary
    store: SubscriberStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = SubscriberStore(self.engine)

    def letter(self, letter: Letter) -> bool:
        """Act on one message; True when it was handled (and is to be marked)."""
        if letter.raw is None:
            log.info("Mailbox: message %s left alone: too large to be a report", letter.key)
            return False
        try:
            verdict = classify(letter.raw, self.readers)
        except Exception as exc:  # a message no parser foresaw must not stop the pass
            log.warning("Mailbox: message %s left alone: unreadable (%s)", letter.key, exc)
            log.debug("Mailbox: message %s", letter.key, exc_info=True)
            return False
        if verdict.kind is Kind.OTHER:
            log.debug("Mailbox: message %s left alone: %s", letter.key, verdict.detail)
            return False
        key = hashlib.sha256(letter.raw).hexdigest()
        recipients = [self.recipient(target, verdict) for target in verdict.targets]
        if not any(recipients):
            log.info(
                "Mailbox: message %s left alone: its VERP delivery is not in the ledger", letter.key
            )
            return False
        for target, recipient in zip(verdict.targets, recipients, strict=True):
            if recipient is not None:
                self.act(target.event, recipient, key, verdict.detail)
        return True

    def recipient(self, target: Target, verdict: Verdict) -> events.Recipient | None:
        with self.engine.connect() as conn:
            if target.delivery is not None:
                return events.delivery(conn, target.delivery)
            assert target.address is not None
            issue = events.issue_of(conn, target.address, verdict.message_ids)
            return events.Recipient(target.address, issue)

    def act(self, event: Event, recipient: events.Recipient, key: str, evidence: str) -> None:
        email = recipient.email
        if event is Event.UNSUBSCRIBE:
            change = self.store.unsubscribe(email, reason="unsubscribe request by email")
            self.summary.unsubscribes += change.changed
            log.info("Mailbox: %s asked to unsubscribe (%s)", email, change.after.value)
            return
        if self.store.get(email) is None:
            self.summary.not_subscribers += 1
            log.info("Mailbox: %s for %s, who is not a subscriber", _EVENT_NAMES[event], email)
            return
        with self.engine.begin() as conn:
            new = events.record(conn, events.BounceEvent(key, recipient, event, evidence, self.now))
            days = events.soft_bounce_days(conn, email, self.now) if event is Event.TEMPORARY else 0
        issue = f" (issue {recipient.issue})" if recipient.issue else ""
        if event is Event.COMPLAINT:
            self.summary.complaints += new
            self._leave(email, COMPLAINED, f"complaint: a spam report{issue}")
        elif event is Event.PERMANENT:
            self.summary.permanent += new
            self._leave(email, BOUNCED, f"bounce: permanent failure{issue}")
        else:
            self.summary.temporary += new
            limit = self.settings.soft_bounce_limit
            log.info("Mailbox: %s failed for now%s (%d of %d days)", email, issue, days, limit)
            if days >= limit:
                self._leave(email, BOUNCED, f"bounce: temporary failures on {days} days within 30")

    def _leave(self, email: str, status: Status, reason: str) -> None:
        change = self.store.set_status(email, status, reason=reason, now=self.now)
        if change is None or not change.changed:
            return
        log.info("Mailbox: %s is now %s: %s", email, change.after.value, reason)
        if change.after is BOUNCED:
            self.summary.bounced += 1
        elif change.after is COMPLAINED:
            self.summary.complained += 1


def read_mailbox(
    settings: Settings,
    engine: Engine,
    *,
    now: dt.datetime | None = None,
    stop: threading.Event | None = None,
    reread: bool = False,
) -> MailboxSummary:
    """One pass over DIGEST_MAILBOX_URL against the state database `engine`; `stop` ends it after
    the message at hand. A message an earlier pass left alone is not downloaded again, unless
    `reread`."""
    mailbox = open_mailbox(settings)
    summary = MailboxSummary(mailbox=mailbox.shown)
    started = time.perf_counter()
    work = _Pass(settings, engine, readers(settings), now or utcnow(), summary)
    with mailbox:
        seen = Seen(engine, mailbox.shown, mailbox.generation)
        if reread:
            seen.forget()
        keys = mailbox.unhandled()
        known = seen.known(keys)
        summary.left_before = len(known)
        try:
            for letter in mailbox.fetch([key for key in keys if key not in known]):
                if stop is not None and stop.is_set():
                    break
                summary.read += 1
                if work.letter(letter):
                    mailbox.mark_handled(letter)
                else:
                    summary.left_alone += 1
                    seen.left_alone(letter.key)
        except BaseException:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                seen.flush()  # what was judged stays judged
            raise
        seen.flush()
    summary.seconds = time.perf_counter() - started
    return summary
