"""`digest send` and `digest status`: deliver an issue to the list, and say where a send stands."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from digest.audience.address import normalise_address
from digest.commands.options import DateOption
from digest.config import load_settings
from digest.console import stderr_console
from digest.deliver import dry_run, send_issue, send_test
from digest.deliver.local import default_workers
from digest.deliver.outgoing import Result
from digest.errors import DeliveryError
from digest.models import PREVIEW_RECIPIENT
from digest.signals import on_stop_signals, signal_name
from digest.state.engine import state_engine
from digest.state.ledger import Ledger
from digest.state.schema import FAILED, PENDING, SENT, utcnow
from digest.state.workers import senders
from digest.store import load_issue

console = stderr_console()


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f}/s", style="progress.data.speed")


class _Bar:
    """The rich progress bar: sent, failed, rate and time left."""

    def __init__(self, progress: Progress, label: str) -> None:
        self._progress = progress
        self._label = label
        self._task = progress.add_task(label, total=None, sent=0, failed=0)
        self._counts = {SENT: 0, FAILED: 0}
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)

    def show(self, sent: int, failed: int) -> None:
        """Counts of sender processes (`digest send --workers`), read from the ledger."""
        with self._lock:
            self._counts = {SENT: sent, FAILED: failed}
            self._progress.update(self._task, completed=sent + failed, sent=sent, failed=failed)

    def advance(self, result: Result) -> None:
        with self._lock:
            self._counts[SENT if result.accepted else FAILED] += 1
            self._progress.update(
                self._task, advance=1, sent=self._counts[SENT], failed=self._counts[FAILED]
            )


@contextmanager
def _progress(label: str) -> Iterator[_Bar]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[sent]} sent[/] [red]{task.fields[failed]} failed[/]"),
        _Rate(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield _Bar(progress, label)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM ask the send to stop; messages in flight still get recorded. The
    handler only records the signal (see digest/signals.py); this runs on the watcher thread."""
    stop = threading.Event()

    def act(signum: int) -> None:
        if not stop.is_set():
            console.print(f"{signal_name(signum)}: stopping after the messages in flight…")
        stop.set()

    with on_stop_signals(act):
        yield stop


def _print_invalid_rows(lines: list[str]) -> None:
    if lines:
        console.print("Invalid rows in the subscriber list (skipped):")
    for line in lines:
        console.print(f"  {line}")


def send(
    date: DateOption = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="ADDRESS",
            help='Send a test copy ("[TEST]" subject) to this address only; repeatable. '
            "Records nothing against the issue.",
        ),
    ] = None,
    dry: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Build and check every subscriber's message without connecting."
        ),
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Also retry subscribers whose send failed.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Send even when `digest check` finds errors.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help="Sender processes on this machine, each with DIGEST_SMTP_CONNECTIONS "
            "connections (default: DIGEST_SEND_WORKERS, 0 there meaning one per core).",
        ),
    ] = None,
) -> None:
    """Send the issue (the newest by default) to every subscriber who has not received it yet."""
    # Imported here, not for every command; the check only where it gates a send, so a dry run
    # or a sender of a million rows does not carry the feed readers its rules import.
    from digest.message import compose
    from digest.prepare import prepare_message, view_online_url
    from digest.render import render_email

    settings = load_settings()
    issue = load_issue(settings, date)
    with _stop_on_signals() as stop:
        if to:
            addresses = []
            for address in to:
                try:
                    addresses.append(normalise_address(address))
                except ValueError as exc:
                    raise typer.BadParameter(f"{address!r}: {exc}", param_hint="--to") from None
            rendered = render_email(
                issue, settings, asset_base_url=view_online_url(issue, settings) or None
            )
            template = compose(issue, rendered, settings, test_copy=True)
            with _progress("test copy") as bar:
                summary = send_test(settings, template, addresses, stop=stop, progress=bar)
            console.print(
                f"Test copy of {issue.date.isoformat()}: {summary.sent} sent, "
                f"{summary.failed} failed.",
                highlight=False,
            )
            ok = summary.ok
        elif dry:
            template = prepare_message(issue, settings)
            with _progress("dry run") as bar:
                checked = dry_run(settings, issue, template, stop=stop, progress=bar)
            for problem in checked.problems[:20]:
                console.print(f"  {problem}")
            _print_invalid_rows(checked.invalid_report)
            console.print(checked.line)
            ok = not checked.problems and not stop.is_set()
        else:
            template = prepare_message(issue, settings)
            engine = state_engine(settings)
            try:
                if Ledger(engine).send_state(issue.date.isoformat()) is None:
                    from digest.check import send_gate

                    # The gate (SpamAssassin included) takes seconds: run it before the first
                    # message goes out, not again when a stopped send resumes.
                    preview = template.personalise(PREVIEW_RECIPIENT)
                    for finding in send_gate(settings, issue, preview, force=force):
                        if finding.severity == "error":
                            console.print(f"  {finding.line} (sending anyway: --force)")
                with _progress("sending") as bar:
                    summary = send_issue(
                        settings,
                        issue,
                        template,
                        Ledger(engine),
                        retry_failed=retry_failed,
                        stop=stop,
                        progress=bar,
                        workers=workers or settings.send_workers or default_workers(),
                        shown=bar.show,
                    )
            finally:
                engine.dispose()
            _print_invalid_rows(summary.invalid_report)
            for line in summary.cut_in_flight:
                console.print(f"  {line}")
            console.print(summary.line)
            ok = summary.ok
    if stop.is_set():
        raise SystemExit(130)
    if not ok:
        raise DeliveryError(
            "some messages could not be sent or built (`digest status` lists them; "
            "`digest send --retry-failed` tries again)"
        )


def status(date: DateOption = None) -> None:
    """Show how far the send of an issue (the newest by default) got, and each failure's reply."""
    from digest.audience.mailbox.events import status_lines
    from digest.schedule.status import schedule_status

    settings = load_settings()
    print("\n".join(schedule_status(settings).lines()))
    issue = load_issue(settings, date)
    key = issue.date.isoformat()
    engine = state_engine(settings)
    try:
        ledger = Ledger(engine)
        state = ledger.send_state(key)
        counts = ledger.counts(key)
        failures = ledger.failures(key)
        sending = senders(engine, heard_within=2 * settings.send_lease)
        returned = status_lines(engine)
    finally:
        engine.dispose()
    if sending:
        print("Sending now:")
        now = utcnow()
        for sender in sending:
            print(f"  {sender.line(now)}")
    if state is None:
        print(f"{key}: not sent yet.")
    else:
        finished = (
            f"finished {state.finished_at:%Y-%m-%d %H:%M} UTC" if state.finished_at else "open"
        )
        print(
            f"{key} ({finished}): {counts[SENT]} sent, {counts[FAILED]} failed, "
            f"{counts[PENDING]} pending."
        )
        for failure in failures:
            print(f"  {failure.email}: {failure.reply} ({failure.attempts} attempts)")
        if counts[FAILED] > len(failures):
            print(f"  … and {counts[FAILED] - len(failures)} more failures")
    if returned:
        print("\n".join(returned))
