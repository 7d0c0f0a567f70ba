"""Delivery: an issue's template to every subscriber, exactly once, with the ledger as memory.

`send_issue` reads like the promise it keeps: list the subscribers in the ledger (new ones only, so
a resumed send picks up where it stopped), stream the rows still to send, personalise each, hand
them to the sender, and record each outcome the moment the server answers."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from digest.audience.csv_import import (
    ListReport,
    check_structure,
    invalid_rows_file,
    load_suppressions,
    read_subscribers,
)
from digest.config import Settings
from digest.deliver.smtp import Outgoing, Result, SmtpSender
from digest.errors import ConfigError, DeliveryError
from digest.message import MessageTemplate
from digest.models import Issue, Recipient
from digest.state.engine import open_engine
from digest.state.ledger import Ledger, Outcome, Recorder
from digest.state.schema import FAILED, PENDING, SENT
from digest.store import invalid_rows_path
from digest.tokens import TokenSigner, signer

MAX_LINE = 998


class Sender(Protocol):
    """What delivery needs from a transport (the SMTP sender is the one we ship)."""

    def run(
        self,
        messages: Iterator[Outgoing],
        report: Callable[[Result], None],
        stop: threading.Event,
    ) -> None: ...


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
            f"{self.suppressed} suppressed."
        )


def _no_progress() -> Progress:
    class Quiet:
        def start(self, total: int) -> None:
            pass

        def advance(self, result: Result) -> None:
            pass

    return Quiet()


def _subscribers_path(settings: Settings) -> Path:
    if settings.subscribers is None:
        raise ConfigError("DIGEST_SUBSCRIBERS: not set (a CSV file with an 'email' column)")
    return settings.subscribers


def list_subscribers(
    settings: Settings, ledger: Ledger, issue: Issue, suppressed: frozenset[str]
) -> ListReport:
    """Add the list's new subscribers to the ledger as pending rows of the issue; the rows it
    skips as invalid go to a file beside the issue."""
    report = ListReport()
    path = _subscribers_path(settings)
    with invalid_rows_file(report, invalid_rows_path(settings, issue.date)):
        rows = read_subscribers(path, suppressed=suppressed, report=report)
        ledger.enqueue(issue.date.isoformat(), rows)
    return report


def _outgoing(
    ledger: Ledger,
    issue_key: str,
    template: MessageTemplate,
    tokens: TokenSigner,
    suppressed: frozenset[str],
    recorder: Recorder,
    *,
    retry_failed: bool,
    dropped: list[str],
) -> Iterator[Outgoing]:
    """The ledger's unsent rows as finished messages; a row whose message cannot be built is
    recorded as failed, and an address suppressed since it was listed is dropped."""
    for row in ledger.unsent(issue_key, retry_failed=retry_failed):
        key = row.email.lower()
        if key in suppressed:
            dropped.append(key)
            continue
        message_id = template.message_id(row.email)
        try:
            message = template.personalise(
                Recipient(email=row.email, name=row.name, token=tokens.sign(row.email))
            )
        except DeliveryError as exc:
            recorder.record(Outcome(row.id, FAILED, 0, f"not sent: {exc}", message_id))
            continue
        yield Outgoing(row.id, row.email, message, message_id)


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
) -> SendSummary:
    """Send `issue` to every subscriber not yet sent it; resumable at any point."""
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
    tokens = signer(settings)
    sender = sender or SmtpSender(settings, template.envelope_from)
    suppressed = load_suppressions(settings.suppressions)
    report = ListReport()
    if not finished:
        # A broken file stops the send before anyone is listed, so nothing half-read goes out.
        check_structure(_subscribers_path(settings))
        ledger.begin_send(issue_key, issue.subject)
        report = list_subscribers(settings, ledger, issue, suppressed)
    counts = ledger.counts(issue_key)
    progress.start(counts[PENDING] + (counts[FAILED] if retry_failed else 0))
    done = {SENT: 0, FAILED: 0}
    dropped: list[str] = []
    cut: list[str] = []
    recorder = Recorder(ledger)

    def record(result: Result) -> None:
        status = PENDING if result.interrupted else SENT if result.accepted else FAILED
        outgoing = result.outgoing
        recorder.record(
            Outcome(outgoing.key, status, result.attempts, result.reply, outgoing.message_id)
        )
        if result.interrupted:
            cut.append(f"{outgoing.recipient}: {result.reply}")
            return
        done[status] += 1
        progress.advance(result)

    started = time.perf_counter()
    try:
        messages = _outgoing(
            ledger,
            issue_key,
            template,
            tokens,
            suppressed,
            recorder,
            retry_failed=retry_failed,
            dropped=dropped,
        )
        sender.run(messages, record, stop)
    finally:
        recorder.close()
        ledger.remove_pending(issue_key, dropped)
    counts = ledger.counts(issue_key)
    stopped = stop.is_set() and counts[PENDING] > 0
    if counts[PENDING] == 0:
        ledger.finish_send(issue_key)
    return SendSummary(
        issue=issue_key,
        sent=done[SENT],
        failed=done[FAILED],
        total_sent=counts[SENT],
        total_failed=counts[FAILED],
        pending=counts[PENDING],
        listed=sum(counts.values()),
        invalid_rows=report.invalid_count,
        invalid_report=report.lines(),
        invalid_rows_file=report.saved_to,
        suppressed=report.suppressed,
        seconds=time.perf_counter() - started,
        stopped=stopped,
        cut_in_flight=cut,
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
    duplicates: int = 0
    largest: int = 0
    seconds: float = 0.0

    @property
    def line(self) -> str:
        return (
            f"Dry run of {self.issue}: {self.messages} messages built and checked in "
            f"{self.seconds:.1f}s (largest {self.largest / 1024:.0f} KB), "
            f"{len(self.problems)} with problems; {self.invalid_rows} invalid rows, "
            f"{self.duplicates} duplicates, {self.suppressed} suppressed. Nothing was sent."
        )


def dry_run(
    settings: Settings,
    issue: Issue,
    template: MessageTemplate,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> DryRunSummary:
    """Build and check every subscriber's message without connecting or touching the ledger.

    The list is de-duplicated in a throw-away state database, as a real send would, so memory
    stays flat at any list size."""
    stop = stop or threading.Event()
    progress = progress or _no_progress()
    issue_key = issue.date.isoformat()
    tokens = signer(settings)
    suppressed = load_suppressions(settings.suppressions)
    summary = DryRunSummary(issue=issue_key)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="digest-dry-run-") as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'dry-run.db'}")
        try:
            ledger = Ledger(engine)
            report = list_subscribers(settings, ledger, issue, suppressed)
            summary.invalid_rows = report.invalid_count
            summary.invalid_report = report.lines()
            summary.suppressed = report.suppressed
            summary.duplicates = report.valid - ledger.counts(issue_key)[PENDING]
            progress.start(ledger.counts(issue_key)[PENDING])
            for row in ledger.unsent(issue_key):
                if stop.is_set():
                    break
                outgoing = Outgoing(row.id, row.email, b"", template.message_id(row.email))
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
                progress.advance(Result(outgoing, problem is None, 0, problem or "built"))
        finally:
            engine.dispose()
    summary.seconds = time.perf_counter() - started
    return summary


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
