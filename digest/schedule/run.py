"""One scheduled run: build the day's issue unless it exists, send it (in send mode), retry a
failure, record the run and alert when it still fails; and the jobs beside it (the bounce
mailbox's pass, pruning unconfirmed sign-ups)."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from digest.audience.mailbox.run import read_mailbox
from digest.audience.signups import SignUps
from digest.check import send_gate
from digest.config import Settings
from digest.deliver import SendSummary, send_issue
from digest.errors import BuildError, ConfigError, DigestError, NoNewStories
from digest.models import PREVIEW_RECIPIENT
from digest.pipeline import build_issue, today
from digest.prepare import prepare_message
from digest.schedule.alerts import send_alert
from digest.schedule.runs import RunOutcome, finish_run, start_run
from digest.signals import on_stop_signals, signal_name
from digest.state.engine import state_engine, state_url
from digest.state.ledger import Ledger
from digest.state.lock import instance_lock
from digest.state.schema import utcnow
from digest.store import ISSUE_FILE, issue_dir, load_issue
from digest.timing import describe_duration

log = logging.getLogger("digest.schedule")

MAX_RETRY_DELAY = 1800.0


def _existing_issue(settings: Settings, date: dt.date) -> bool:
    return (issue_dir(settings, date) / ISSUE_FILE).is_file()


def run_issue(settings: Settings, date: dt.date, stop: threading.Event) -> RunOutcome:
    """One attempt: build the issue of `date` unless it exists, then send it (in send mode).

    An issue folder that already exists is kept as it is: an editor may have built and edited it
    ahead of time, or an earlier run built it and was cut short during the send."""
    key = date.isoformat()
    if settings.schedule_mode == "preview":
        if _existing_issue(settings, date):
            return RunOutcome(issue=key, kind="skipped", detail="built earlier, kept as it is")
        return _build(settings, date)
    engine = state_engine(settings)
    try:
        ledger = Ledger(engine)
        state = ledger.send_state(key)
        if state is not None and state.finished_at is not None:
            return RunOutcome(issue=key, kind="skipped", detail="already sent")
        if not _existing_issue(settings, date):
            built = _build(settings, date)
            if built.kind == "skipped":
                return built
        issue = load_issue(settings, date)
        template = prepare_message(issue, settings)
        if state is None:
            # As `digest send` does, before the first message (not again when resuming). Its
            # verdict will not change by trying again, so it is not retried.
            try:
                send_gate(settings, issue, template.personalise(PREVIEW_RECIPIENT), force=False)
            except BuildError as exc:
                return RunOutcome(issue=key, kind="failed", detail=str(exc))
        summary = send_issue(settings, issue, template, ledger, stop=stop, role="schedule")
    finally:
        engine.dispose()
    return _sent(key, summary)


def _build(settings: Settings, date: dt.date) -> RunOutcome:
    key = date.isoformat()
    try:
        summary = build_issue(settings, date=date).summary
    except NoNewStories as exc:
        if settings.skip_if_no_new:
            return RunOutcome(issue=key, kind="skipped", detail=str(exc))
        raise
    return RunOutcome(issue=key, kind="built", detail=summary)


def _sent(key: str, summary: SendSummary) -> RunOutcome:
    if summary.already_sent:
        return RunOutcome(issue=key, kind="skipped", detail="already sent")
    counts = f"sent {summary.sent}, failed {summary.failed}"
    if summary.invalid_rows:
        skipped = f"{summary.invalid_rows} invalid list rows skipped"
        counts += f", {skipped} ({summary.invalid_rows_file})"
    if summary.stopped:
        return RunOutcome(
            issue=key,
            kind="interrupted",
            detail=f"{counts}; stopped with {summary.pending} left, resumed at the next start",
            sent=summary.sent,
            failed=summary.failed,
        )
    return RunOutcome(
        issue=key,
        kind="sent",
        detail=f"{counts} (totals: {summary.total_sent} sent, {summary.total_failed} failed "
        f"of {summary.listed})",
        sent=summary.sent,
        failed=summary.failed,
    )


def run_with_retries(
    settings: Settings,
    date: dt.date,
    stop: threading.Event,
    *,
    scheduled_for: dt.datetime | None = None,
) -> RunOutcome:
    """Run the issue of `date`, retrying a failure DIGEST_RUN_RETRIES times with doubling delays;
    record the run, log its one line, and alert DIGEST_ALERT_TO when it still fails."""
    engine = state_engine(settings)
    try:
        run_id = start_run(engine, settings, date, scheduled_for)
        outcome = _attempts(settings, date, stop)
        finish_run(engine, run_id, outcome)
    finally:
        engine.dispose()
    report = {"failed": log.error, "interrupted": log.warning, "missed": log.warning}
    report.get(outcome.kind, log.info)("%s", outcome.line)
    if outcome.kind == "failed":
        send_alert(settings, outcome, scheduled_for)
    return outcome


def _attempts(settings: Settings, date: dt.date, stop: threading.Event) -> RunOutcome:
    attempts = settings.run_retries + 1
    key = date.isoformat()
    for attempt in range(1, attempts + 1):
        try:
            return run_issue(settings, date, stop)
        except ConfigError as exc:
            return RunOutcome(issue=key, kind="failed", detail=f"{exc} (not retried)")
        except Exception as exc:  # any failure must be retried and reported, never end the process
            error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, DigestError) else str(exc)
            if attempt == attempts:
                return RunOutcome(
                    issue=key, kind="failed", detail=f"{error} (after {attempts} attempts)"
                )
            delay = min(settings.run_retry_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY)
            log.warning(
                "Issue %s: attempt %d of %d failed: %s; retrying in %s",
                key,
                attempt,
                attempts,
                error,
                describe_duration(delay),
            )
            if stop.wait(delay):
                return RunOutcome(
                    issue=key, kind="interrupted", detail=f"stopped before retrying ({error})"
                )
    raise AssertionError("unreachable: the last attempt returns")


def mailbox_run(settings: Settings, stop: threading.Event) -> None:
    """One pass over the bounce mailbox (every DIGEST_MAILBOX_INTERVAL, in a thread of its own so
    a long send never delays it); a failure is one log line, and the next interval tries again."""
    engine = state_engine(settings)
    try:
        log.info("%s", read_mailbox(settings, engine, stop=stop).line)
    except DigestError as exc:
        log.warning("%s", exc)
    finally:
        engine.dispose()


def prune_run(settings: Settings) -> None:
    """Forget the sign-ups nobody confirmed within DIGEST_UNCONFIRMED_DAYS (at start and every
    day); a failure is one log line, and the next day tries again."""
    engine = state_engine(settings)
    try:
        cutoff = utcnow() - dt.timedelta(days=settings.unconfirmed_days)
        pruned = SignUps(engine).prune_unconfirmed(older_than=cutoff)
    except (DigestError, sa.exc.SQLAlchemyError) as exc:
        log.warning("Unconfirmed sign-ups: not pruned (%s)", str(exc).splitlines()[0])
        return
    finally:
        engine.dispose()
    level = logging.INFO if pruned.deleted or pruned.cleared else logging.DEBUG
    log.log(level, "%s", pruned.line(settings.unconfirmed_days))


def run_now(settings: Settings) -> RunOutcome:
    """`digest schedule --once`: today's run, now, under the same lock as the scheduler."""
    with instance_lock(state_url(settings)), stop_on_signals(pass_on=False) as stop:
        return run_with_retries(settings, today(settings), stop)


@contextmanager
def stop_on_signals(*, pass_on: bool = True) -> Iterator[threading.Event]:
    """During a run, SIGTERM and SIGINT ask it to stop after the messages in flight; with
    `pass_on`, the signal then goes to the handler that was there before (the scheduler's,
    which stops the scheduler). The handler only records the signal (digest/signals.py)."""
    stop = threading.Event()

    def act(signum: int) -> None:
        if not stop.is_set():
            log.warning("%s: finishing the messages in flight, then stopping", signal_name(signum))
        stop.set()

    with on_stop_signals(act) as caught:
        yield stop
    if caught and pass_on:
        signal.raise_signal(caught[0])
