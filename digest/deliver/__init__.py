"""Delivery: an issue's template to every subscriber, exactly once, with the ledger as memory.

`send_issue` reads like the promise it keeps: list the subscribers in the ledger (new ones only, so
a resumed send picks up where it stopped), then take part in the send (`digest.deliver.worker`):
claim rows in batches, personalise each, hand them to the sender, and record each outcome the
moment the server answers."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.audience.csv_import import (
    ListReport,
    load_suppressions,
    read_subscribers,
)
from digest.audience.importer import import_list
from digest.audience.status import ACTIVE
from digest.audience.store import SubscriberStore
from digest.config import Settings
from digest.deliver.local import run_workers
from digest.deliver.outgoing import Outgoing, Report, Result
from digest.deliver.smtp import SmtpSender
from digest.deliver.worker import Part, Presence, help_send
from digest.errors import ConfigError, DeliveryError
from digest.message import MessageTemplate
from digest.models import Issue, Recipient
from digest.state.claims import Claims, Lease
from digest.state.engine import open_engine, state_engine
from digest.state.ledger import Delivery, Ledger, Outcome
from digest.state.schema import FAILED, PENDING, SENT, deliveries
from digest.state.workers import Role, register
from digest.store import invalid_rows_path
from digest.tokens import TokenSigner, signer

MAX_LINE = 998


class Sender(Protocol):
    """What delivery needs from a transport (the SMTP sender is the one we ship)."""

    def run(
        self,
        messages: Iterator[Outgoing | None],
        report: Report,
        stop: threading.Event,
    ) -> None:
        """Send every message; None from `messages` means none is ready yet (ask again soon)."""


class Progress(Protocol):
    """Told how much there is to do, then told about each message as it is answered."""

    def start(self, total: int) -> None: ...

    def advance(self, result: Result) -> None: ...


class SendSummary(BaseModel):
    """What a run did and where the issue stands; the CLI prints `line`."""

    model_config = ConfigDict(extra="forbid")

    issue: str
    sent: int = 0
    failed: int = 0
    total_sent: int = 0
    total_failed: int = 0
    pending: int = 0
    listed: int = 0
    invalid_rows: int = 0
    invalid_report: list[str] = []
    """The first invalid rows of the list, then how many more and the file holding them all."""
    invalid_rows_file: Path | None = None
    suppressed: int = 0
    left: int = 0
    seconds: float = 0.0
    already_sent: bool = False
    stopped: bool = False
    cut_in_flight: list[str] = []
    """Messages a stop cut in flight (they stay pending), each with what the relay may have."""

    @property
    def rate(self) -> float:
        done = self.sent + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.stopped

    @property
    def line(self) -> str:
        if self.already_sent:
            return (
                f"Issue {self.issue} was already sent: {self.total_sent} sent, "
                f"{self.total_failed} failed (use --retry-failed to retry the failures)."
            )
        state = f"stopped, {self.pending} left to send" if self.stopped else "done"
        if self.cut_in_flight:
            state += f" ({len(self.cut_in_flight)} cut in flight)"
        return (
            f"Issue {self.issue}: {self.sent} sent, {self.failed} failed in {self.seconds:.1f}s "
            f"({self.rate:.0f}/s); {state}. Totals: {self.total_sent} sent, {self.total_failed} "
            f"failed of {self.listed} listed; {self.invalid_rows} invalid rows, "
            f"{self.suppressed} suppressed, {self.left} who left."
        )


def _no_progress() -> Progress:
    class Quiet:
        def start(self, total: int) -> None:
            pass

        def advance(self, result: Result) -> None:
            pass

    return Quiet()


def list_subscribers(
    settings: Settings, ledger: Ledger, issue: Issue, suppressed: frozenset[str]
) -> ListReport:
    """Bring the subscribers table up to date and list its active subscribers as pending rows of
    the issue: DIGEST_SUPPRESSIONS become unsubscribed, then DIGEST_SUBSCRIBERS is imported by
    the rule of `digest subscribers import` (nobody who left comes back; the rows skipped as
    invalid go to a file beside the issue)."""
    store = SubscriberStore(ledger.engine)
    report = ListReport()
    if suppressed:
        store.suppress(suppressed, reason="listed in DIGEST_SUPPRESSIONS")
    if settings.subscribers is not None:
        import_list(
            ledger.engine,
            settings.subscribers,
            report=report,
            suppressed=suppressed,
            invalid_rows=invalid_rows_path(settings, issue.date),
        )
    if not store.counts()[ACTIVE] and not ledger.counts(issue.date.isoformat())[PENDING]:
        raise ConfigError(
            "nobody to send to: no active subscriber (import a list with `digest subscribers "
            "import FILE.csv`, set DIGEST_SUBSCRIBERS, or let people sign up on `digest site`)"
        )
    ledger.enqueue_active(issue.date.isoformat())
    return report


def send_issue(
    settings: Settings,
    issue: Issue,
    template: MessageTemplate,
    ledger: Ledger,
    *,
    sender: Sender | None = None,
    retry_failed: bool = False,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    role: Role = "send",
    workers: int = 1,
    shown: Callable[[int, int], None] = lambda _sent, _failed: None,
) -> SendSummary:
    """Send `issue` to every subscriber not yet sent it; resumable at any point, and shared with
    any other process sending it at the same time (`digest.deliver.worker`).

    With `workers` > 1 this process leads and `workers` processes send (`digest.deliver.local`);
    `shown(sent, failed)` then follows their progress instead of `progress.advance`."""
    issue_key = issue.date.isoformat()
    stop = stop or threading.Event()
    progress = progress or _no_progress()
    state = ledger.send_state(issue_key)
    finished = state is not None and state.finished_at is not None
    if finished and not retry_failed:
        counts = ledger.counts(issue_key)
        return SendSummary(
            issue=issue_key,
            total_sent=counts[SENT],
            total_failed=counts[FAILED],
            listed=sum(counts.values()),
            already_sent=True,
        )
    part = Part.configured(template, settings, ledger)
    sender = sender or SmtpSender(settings, template.envelope_from)
    suppressed = load_suppressions(settings.suppressions)
    report = ListReport()
    if not finished:
        # A broken file stops the send before anyone is listed (import_list checks its
        # structure first), so nothing half-read goes out.
        report = list_subscribers(settings, ledger, issue, suppressed)
        ledger.begin_send(issue_key, issue.subject)
    if retry_failed:
        ledger.reopen_failed(issue_key)
    progress.start(ledger.counts(issue_key)[PENDING])
    started = time.perf_counter()
    with Presence(ledger, settings, role) as presence:
        presence.lead(issue_key)
        ledger.store_template(issue_key, template.stored())
        if workers > 1:
            part_done = run_workers(ledger, issue_key, workers, stop, shown)
        else:
            part_done = help_send(
                presence,
                issue_key,
                part,
                lambda messages, record: sender.run(messages, record, stop),
                stop,
                progress.advance,
            )
    counts = ledger.counts(issue_key)
    stopped = stop.is_set() and counts[PENDING] > 0
    if counts[PENDING] == 0:
        ledger.finish_send(issue_key)
    return SendSummary(
        issue=issue_key,
        sent=part_done.sent,
        failed=part_done.failed,
        total_sent=counts[SENT],
        total_failed=counts[FAILED],
        pending=counts[PENDING],
        listed=sum(counts.values()),
        invalid_rows=report.invalid_count,
        invalid_report=report.lines(),
        invalid_rows_file=report.saved_to,
        suppressed=report.suppressed,
        left=report.left,
        seconds=time.perf_counter() - started,
        stopped=stopped,
        cut_in_flight=part_done.cut,
    )


def check_message(message: bytes) -> str | None:
    """Why `message` could not go over SMTP as it is, or None."""
    if message.count(b"\n") != message.count(b"\r\n") or message.count(b"\r") != message.count(
        b"\r\n"
    ):
        return "a line ends without CRLF"
    longest = max(map(len, message.split(b"\r\n")))
    if longest > MAX_LINE:
        return f"a line of {longest} characters (SMTP allows {MAX_LINE})"
    return None


class DryRunSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issue: str
    messages: int = 0
    problems: list[str] = []
    invalid_rows: int = 0
    invalid_report: list[str] = []
    suppressed: int = 0
    left: int = 0
    duplicates: int = 0
    largest: int = 0
    seconds: float = 0.0

    @property
    def line(self) -> str:
        return (
            f"Dry run of {self.issue}: {self.messages} messages built and checked in "
            f"{self.seconds:.1f}s (largest {self.largest / 1024:.0f} KB), "
            f"{len(self.problems)} with problems; {self.invalid_rows} invalid rows, "
            f"{self.duplicates} duplicates, {self.suppressed} suppressed, {self.left} who left. "
            "Nothing was sent."
        )


@contextmanager
def _state(settings: Settings) -> Iterator[Engine]:
    engine = state_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


LEAVING = "leaving"
"""Where a dry run lists, in its throw-away ledger, the addresses the list says left."""


def _drop_leaving(engine: Engine, issue_key: str) -> None:
    """Take out of a dry run's throw-away ledger the active subscribers the list says left: the
    import of a real send stops their mail before it lists anyone."""
    leaving = sa.select(deliveries.c.email_key).where(deliveries.c.issue == LEAVING)
    with engine.begin() as conn:
        conn.execute(
            sa.delete(deliveries).where(
                deliveries.c.issue == issue_key, deliveries.c.email_key.in_(leaving)
            )
        )


def dry_run(
    settings: Settings,
    issue: Issue,
    template: MessageTemplate,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> DryRunSummary:
    """Build and check every subscriber's message without connecting or changing the state
    database: the active subscribers, and the rows of DIGEST_SUBSCRIBERS an import would make
    active. They are de-duplicated in a throw-away database and claimed in batches from it, as a
    real send would, so memory stays flat at any list size."""
    stop = stop or threading.Event()
    progress = progress or _no_progress()
    issue_key = issue.date.isoformat()
    tokens = signer(settings)
    suppressed = load_suppressions(settings.suppressions)
    summary = DryRunSummary(issue=issue_key)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="digest-dry-run-") as folder,
        _state(settings) as state,
    ):
        engine = open_engine(f"sqlite:///{Path(folder) / 'dry-run.db'}")
        try:
            ledger = Ledger(engine)
            report = ListReport()
            store = SubscriberStore(state)
            if settings.subscribers is not None:
                rows = read_subscribers(settings.subscribers, suppressed=suppressed, report=report)
                listed = store.without_left(
                    rows, report, leaving=lambda gone: ledger.enqueue(LEAVING, gone)
                )
                added = ledger.enqueue(issue_key, listed)
                summary.duplicates = report.valid - report.left - report.pending - added
            active = store.active()
            ledger.enqueue(issue_key, (row for row in active if row.key not in suppressed))
            _drop_leaving(engine, issue_key)
            summary.invalid_rows = report.invalid_count
            summary.invalid_report = report.lines()
            summary.suppressed = report.suppressed
            summary.left = report.left
            progress.start(ledger.counts(issue_key)[PENDING])
            claims = Claims(
                engine,
                issue_key,
                register(engine, "send"),
                batch=settings.send_batch,
                lease=Lease(settings.send_lease, settings.handover_margin),
            )
            while not stop.is_set() and (rows := claims.claim()):
                checked = []
                for row in rows:
                    problem = _check_one(template, tokens, row, summary)
                    outgoing = Outgoing(row.id, row.email, b"", template.message_id(row.email))
                    progress.advance(Result(outgoing, problem is None, 0, problem or "built"))
                    checked.append(Outcome(row.id, SENT, 0, problem or "built", ""))
                ledger.record(checked, claims.worker)
                claims.settle(row.id for row in rows)
        finally:
            engine.dispose()
    summary.seconds = time.perf_counter() - started
    return summary


def _check_one(
    template: MessageTemplate, tokens: TokenSigner, row: Delivery, summary: DryRunSummary
) -> str | None:
    """Build and check one row's message for the dry run; return its problem, if any."""
    try:
        message = template.personalise(
            Recipient(email=row.email, name=row.name, token=tokens.sign(row.email))
        )
        problem = check_message(message)
    except DeliveryError as exc:
        message, problem = b"", str(exc)
    if problem:
        summary.problems.append(f"{row.email}: {problem}")
    summary.messages += 1
    summary.largest = max(summary.largest, len(message))
    return problem


def send_test(
    settings: Settings,
    template: MessageTemplate,
    addresses: Iterable[str],
    *,
    sender: Sender | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> SendSummary:
    """Send a test copy (compose it with `test_copy=True`) to `addresses`; the ledger is not used,
    so the issue's real send is unaffected."""
    tokens = signer(settings)
    sender = sender or SmtpSender(settings, template.envelope_from)
    progress = progress or _no_progress()
    wanted = list(dict.fromkeys(addresses))
    progress.start(len(wanted))
    results: list[Result] = []

    def record(result: Result) -> None:
        if result.interrupted:
            return  # counted as not sent
        results.append(result)
        progress.advance(result)

    messages = (
        Outgoing(
            number,
            address,
            template.personalise(Recipient(email=address, token=tokens.sign(address))),
            template.message_id(address),
        )
        for number, address in enumerate(wanted)
    )
    started = time.perf_counter()
    sender.run(messages, record, stop or threading.Event())
    sent = sum(result.accepted for result in results)
    return SendSummary(
        issue=f"test copy of {template.message_id_prefix}",
        sent=sent,
        failed=len(results) - sent,
        total_sent=sent,
        total_failed=len(results) - sent,
        pending=len(wanted) - len(results),
        listed=len(wanted),
        seconds=time.perf_counter() - started,
        stopped=len(results) < len(wanted),
    )
