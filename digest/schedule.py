"""The scheduler process: the day's issue, built and sent at DIGEST_SCHEDULE, once.

How "once" is kept, whatever happens to the process:
- the job lives in an SQLAlchemyJobStore in the state database and is added only when absent
  (re-adding it would drop a run missed while the process was down); a changed schedule updates
  the stored trigger;
- a missed run is made up when the process comes back within DIGEST_MISFIRE_GRACE (coalesced to
  one run), or logged and left alone past it unless DIGEST_SEND_LATE;
- the job runs in the scheduler's own thread (the main thread), so SIGTERM reaches it: the
  messages in flight finish, the run is recorded as interrupted and resumed at the next start;
  after SIGKILL the store still shows the run as due, and the next start resumes it too;
- every send goes through the ledger, which never sends an issue to a subscriber twice;
- a lock (digest/state/lock.py) keeps a second scheduler off the same database.

Each run leaves a row in `schedule_runs` and one log line; `schedule_status` reads them back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED, JobExecutionEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.audience.address import normalise_address
from digest.audience.mailbox.run import read_mailbox
from digest.audience.store import SubscriberStore
from digest.check import send_gate
from digest.config import Settings, load_settings
from digest.deliver import SendSummary, send_issue
from digest.deliver.smtp import Outgoing, Result, SmtpSender
from digest.errors import BuildError, ConfigError, DigestError, NoNewStories
from digest.models import PREVIEW_RECIPIENT
from digest.pipeline import build_issue, prepare_message, today
from digest.signals import on_stop_signals, signal_name
from digest.state.engine import state_engine, state_url
from digest.state.ledger import Ledger
from digest.state.lock import LockHolder, instance_lock, lock_holder
from digest.state.schema import schedule_runs as runs
from digest.state.schema import utcnow
from digest.store import ISSUE_FILE, issue_dir, load_issue
from digest.timing import cron_trigger, describe_duration

log = logging.getLogger("digest.schedule")

JOB_ID = "digest-daily-issue"
MAILBOX_JOB_ID = "digest-mailbox"
PRUNE_JOB_ID = "digest-prune-unconfirmed"
PRUNE_INTERVAL = 24 * 3600
JOBS_TABLE = "apscheduler_jobs"
MAX_RETRY_DELAY = 1800.0
LOOKBACK_HOURS = (1, 24, 8 * 24, 32 * 24, 367 * 24, 1462 * 24)
"""Widening windows to look back for the last run time: cheap for frequent schedules, and
reaching a yearly one (29 February included)."""

Kind = Literal["built", "sent", "skipped", "failed", "missed", "interrupted"]


class RunOutcome(BaseModel):
    """What one run did; `line` is the one log line per run."""

    model_config = ConfigDict(extra="forbid")

    issue: str
    kind: Kind
    detail: str
    sent: int = 0
    failed: int = 0

    @property
    def line(self) -> str:
        return f"Issue {self.issue}: {self.kind}: {self.detail}"


class RunRecord(BaseModel):
    """A row of `schedule_runs`, with times made aware (UTC)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    scheduled_for: dt.datetime | None
    issue: str
    mode: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    detail: str


class ScheduleStatus(BaseModel):
    """Where the schedule stands, for `digest status`."""

    model_config = ConfigDict(extra="forbid")

    schedule: str
    timezone: str
    mode: str
    running: LockHolder | None
    last_run: RunRecord | None
    next_run: dt.datetime | None
    overdue: bool

    def lines(self) -> list[str]:
        zone = ZoneInfo(self.timezone)
        running = f"running ({self.running.described})" if self.running else "not running"
        lines = [f"Schedule: {self.schedule!r} in {self.timezone}, {self.mode}; {running}."]
        if self.last_run is None:
            lines.append("Last run: none yet.")
        else:
            run = self.last_run
            outcome = run.outcome or "did not finish (the process ended during the run)"
            if run.outcome is None and self.running:
                outcome = "in progress"
            lines.append(
                f"Last run: issue {run.issue}, started {_show(run.started_at, zone)}: "
                f"{outcome}{': ' + run.detail if run.detail else ''}"
            )
        if self.next_run is None:
            lines.append("Next run: none (the schedule has no future time).")
        else:
            late = " (overdue: digest schedule is not running)" if self.overdue else ""
            lines.append(f"Next run: {_show(self.next_run, zone)}{late}")
        return lines


def _show(moment: dt.datetime, zone: dt.tzinfo) -> str:
    local = moment.astimezone(dt.UTC).astimezone(zone)
    if local.tzname() == "UTC":
        return f"{local:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M %Z} ({moment.astimezone(dt.UTC):%H:%M} UTC)"


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC)


# --- times ---


def trigger_for(settings: Settings) -> CronTrigger:
    return cron_trigger(settings.schedule, settings.zone)


def next_run_times(
    settings: Settings, count: int, *, after: dt.datetime | None = None
) -> list[dt.datetime]:
    """The next `count` run times, in DIGEST_TIMEZONE."""
    trigger = trigger_for(settings)
    moment = after or dt.datetime.now(dt.UTC)
    times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, moment if previous is None else previous)
        if fire is None:
            break
        times.append(fire.astimezone(settings.zone))
        previous = fire
    return times


def last_run_time(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest run time at or before `now`: the run a job started now is making up for.

    APScheduler does not tell a job which run time it serves, and a run made up after midnight
    must still build the issue of the day it was due."""
    for hours in LOOKBACK_HOURS:
        fire = trigger.get_next_fire_time(None, now - dt.timedelta(hours=hours))
        last = None
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire)
        if last is not None:
            return last
    return None


# --- the run ---


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
        run_id = _start_run(engine, settings, date, scheduled_for)
        outcome = _attempts(settings, date, stop)
        _finish_run(engine, run_id, outcome)
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


def scheduled_run() -> None:
    """The job APScheduler stores, by reference and without arguments: the settings (which hold
    secrets) are read afresh in the process, never pickled into the database."""
    settings = load_settings()
    due = last_run_time(trigger_for(settings), dt.datetime.now(dt.UTC))
    due = due or dt.datetime.now(dt.UTC)
    with stop_on_signals() as stop:
        run_with_retries(settings, due.astimezone(settings.zone).date(), stop, scheduled_for=due)


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
        pruned = SubscriberStore(engine).prune_unconfirmed(older_than=cutoff)
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


# --- alerts ---


def send_alert(settings: Settings, outcome: RunOutcome, scheduled_for: dt.datetime | None) -> None:
    """Email DIGEST_ALERT_TO through the configured SMTP relay; a failed alert is logged, never
    raised, since the run has already failed and the scheduler must go on."""
    # Checked when the settings were read; an internationalised domain goes in its xn-- form.
    recipients = [
        normalise_address(address) for _, address in getaddresses([settings.alert_to]) if address
    ]
    if not recipients:
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"[{settings.newsletter_name}] scheduled run failed: issue {outcome.issue}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid("digest-alert", domain=settings.from_domain)
    due = f"scheduled for {_show(scheduled_for, settings.zone)}" if scheduled_for else "run by hand"
    following = next_run_times(settings, 1)
    upcoming = _show(following[0], settings.zone) if following else "none"
    message.set_content(
        f"The run of issue {outcome.issue} ({due}) failed on {socket.gethostname()} "
        f"(pid {os.getpid()}):\n\n  {outcome.detail}\n\n"
        f"The next scheduled run is {upcoming}.\n"
        f"To run it again now: digest schedule --once\n"
    )
    data = message.as_bytes(policy=SMTP)
    results: list[Result] = []
    try:
        sender = SmtpSender(settings, settings.from_address)
        outgoing = (
            Outgoing(number, address, data, message["Message-ID"])
            for number, address in enumerate(recipients)
        )
        sender.run(outgoing, results.append, threading.Event())
    except DigestError as exc:
        log.error("Alert to %s not sent: %s", ", ".join(recipients), exc)
        return
    for result in results:
        if result.accepted:
            log.info("Alert sent to %s", result.outgoing.recipient)
        else:
            log.error("Alert to %s not sent: %s", result.outgoing.recipient, result.reply)


# --- the runs table ---


def _start_run(
    engine: Engine, settings: Settings, date: dt.date, scheduled_for: dt.datetime | None
) -> int:
    values = {
        "scheduled_for": _naive_utc(scheduled_for) if scheduled_for else None,
        "issue": date.isoformat(),
        "mode": settings.schedule_mode,
        "started_at": _naive_utc(dt.datetime.now(dt.UTC)),
        "detail": "",
    }
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(runs).values(**values)).inserted_primary_key[0])


def _finish_run(engine: Engine, run_id: int, outcome: RunOutcome) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(runs)
            .where(runs.c.id == run_id)
            .values(
                finished_at=_naive_utc(dt.datetime.now(dt.UTC)),
                outcome=outcome.kind,
                detail=outcome.detail[:2000],
            )
        )


def _record(
    engine: Engine, settings: Settings, scheduled_for: dt.datetime, outcome: RunOutcome
) -> None:
    """A run that did not happen (missed), recorded so `digest status` shows it."""
    date = scheduled_for.astimezone(settings.zone).date()
    _finish_run(engine, _start_run(engine, settings, date, scheduled_for), outcome)


def _completed(engine: Engine, scheduled_for: dt.datetime) -> bool:
    """Whether the run due at `scheduled_for` has already ended with its issue built or sent."""
    query = sa.select(runs.c.id).where(
        runs.c.scheduled_for == _naive_utc(scheduled_for),
        runs.c.outcome.in_(["built", "sent", "skipped"]),
    )
    with engine.connect() as conn:
        return conn.execute(query.limit(1)).first() is not None


def _to_record(row: sa.Row[Any]) -> RunRecord:
    values = dict(row._mapping)
    for name in ("scheduled_for", "started_at", "finished_at"):
        values[name] = _aware(values[name])
    return RunRecord(**values)


def recent_runs(engine: Engine, limit: int = 20) -> list[RunRecord]:
    """The latest runs, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
    return [_to_record(row) for row in rows]


# --- the scheduler process ---


class _StoppableScheduler(BlockingScheduler):
    """APScheduler 3.11's loop looks for due jobs once more after shutdown(), so a SIGTERM that
    arrives while a run is due would start it; a scheduler told to stop starts nothing."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


class Scheduler:
    """`digest schedule`: the lock, the resumed run, then APScheduler until `stop()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.trigger = trigger_for(settings)
        self.engine = state_engine(settings)
        grace = None if settings.send_late else max(1, round(settings.misfire_grace))
        self.job_options: dict[str, Any] = {
            "misfire_grace_time": grace,
            "coalesce": True,
            "max_instances": 1,
        }
        self.scheduler = _StoppableScheduler(
            timezone=settings.zone,
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBS_TABLE),
                # The jobs beside the issue's (the mailbox, pruning sign-ups) need no memory
                # across restarts: they run at start, so nothing is missed while it was down.
                "memory": MemoryJobStore(),
            },
            executors={"default": DebugExecutor(), "mailbox": ThreadPoolExecutor(1)},
            job_defaults=self.job_options,
        )
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._stopping = threading.Event()
        self._setup_error: BaseException | None = None

    def run(self) -> None:
        """Block until stopped; the lock is held all along."""
        try:
            with instance_lock(state_url(self.settings)) as holder:
                log.info(
                    "digest schedule: pid %d on %s; %r in %s, %s mode",
                    holder.pid,
                    holder.host,
                    self.settings.schedule,
                    self.settings.timezone,
                    self.settings.schedule_mode,
                )
                self.resume_interrupted()
                if not self._stopping.is_set():
                    self.scheduler.start()
        finally:
            self.engine.dispose()
        if self._setup_error is not None:
            raise self._setup_error

    def stop(self) -> None:
        """Stop after the current run (a run in progress is asked to stop by its own signal
        handler); safe to call from another thread, twice at once included."""
        self._stopping.set()
        if self.scheduler.state != STATE_STOPPED:
            with contextlib.suppress(SchedulerNotRunningError):
                self.scheduler.shutdown(wait=False)

    @contextmanager
    def stopping_on_signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the scheduler (exit 0); the handler only records the signal
        (digest/signals.py), and the stop happens on the watcher thread."""

        def act(signum: int) -> None:
            log.info("%s: digest schedule stopping", signal_name(signum))
            self.stop()

        with on_stop_signals(act):
            yield

    def resume_interrupted(self) -> RunOutcome | None:
        """Finish a scheduled run that a stop or a crash cut short, unless a later run time has
        passed since (its issue is no longer the current one: that is logged instead)."""
        last = next(iter(recent_runs(self.engine, 1)), None)
        if last is None or last.scheduled_for is None or last.outcome not in (None, "interrupted"):
            return None
        now = dt.datetime.now(dt.UTC)
        later = self.trigger.get_next_fire_time(last.scheduled_for, last.scheduled_for)
        if last.outcome is None:
            _finish_run(
                self.engine,
                last.id,
                RunOutcome(issue=last.issue, kind="interrupted", detail="the process ended"),
            )
        if later is not None and later <= now:
            log.warning(
                "Issue %s: its run was cut short and a later run time has passed; not resumed "
                "(finish it with: digest send --date %s)",
                last.issue,
                last.issue,
            )
            return None
        log.info("Issue %s: resuming the run that was cut short", last.issue)
        with stop_on_signals() as stop:
            return run_with_retries(
                self.settings,
                dt.date.fromisoformat(last.issue),
                stop,
                scheduled_for=last.scheduled_for,
            )

    def _on_started(self, _event: object) -> None:
        """Add the job only when the store does not hold it, so a run missed while the process
        was down stays due; update the stored trigger and options when the settings changed."""
        try:
            if self._stopping.is_set():
                self.scheduler.shutdown(wait=False)
                return
            self._sync_job()
            self._add_mailbox_job()
            self._add_prune_job()
        except BaseException as exc:  # surfaced by run(): a scheduler without its job must stop
            self._setup_error = exc
            self.scheduler.shutdown(wait=False)

    def _sync_job(self) -> None:
        job = self.scheduler.get_job(JOB_ID)
        if job is None:
            job = self.scheduler.add_job(
                scheduled_run, self.trigger, id=JOB_ID, name="the daily issue", **self.job_options
            )
        else:
            if repr(job.trigger) != repr(self.trigger):
                log.info("DIGEST_SCHEDULE changed: %s → %s", job.trigger, self.trigger)
                job = self.scheduler.reschedule_job(JOB_ID, trigger=self.trigger)
            elif any(getattr(job, name) != value for name, value in self.job_options.items()):
                job = self.scheduler.modify_job(JOB_ID, **self.job_options)
            self._log_coalesced(job.next_run_time)
        if job.next_run_time is not None:
            log.info("Next run: %s", _show(job.next_run_time, self.settings.zone))

    def _add_mailbox_job(self) -> None:
        """With DIGEST_MAILBOX_URL set, read the bounce mailbox now and every interval."""
        if not self.settings.mailbox_url.get_secret_value().strip():
            return
        self._add_beside(
            mailbox_run,
            self.settings.mailbox_interval,
            [self.settings, self._stopping],
            MAILBOX_JOB_ID,
            "the bounce mailbox",
        )
        log.info(
            "Bounce mailbox: read now and every %s",
            describe_duration(self.settings.mailbox_interval),
        )

    def _add_prune_job(self) -> None:
        """Forget unconfirmed sign-ups now and every day."""
        self._add_beside(
            prune_run, PRUNE_INTERVAL, [self.settings], PRUNE_JOB_ID, "unconfirmed sign-ups"
        )

    def _add_beside(
        self, job: Callable[..., None], seconds: float, args: list[Any], job_id: str, name: str
    ) -> None:
        """A job beside the issue's, in a thread of its own (so a long send never delays it): now,
        then every `seconds`. It needs no memory across restarts: it runs again at start, so
        nothing is missed while the process was down."""
        self.scheduler.add_job(
            job,
            IntervalTrigger(seconds=seconds, timezone=dt.UTC),
            args=args,
            id=job_id,
            name=name,
            jobstore="memory",
            executor="mailbox",
            next_run_time=dt.datetime.now(dt.UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def _log_coalesced(self, due: dt.datetime | None) -> None:
        """Runs missed while the process was down, older than the one APScheduler makes up
        (coalesce=True runs only the latest): each is logged and recorded as missed."""
        now = dt.datetime.now(dt.UTC)
        missed: list[dt.datetime] = []
        while due is not None and due <= now:
            missed.append(due)
            due = self.trigger.get_next_fire_time(due, due)
        for run_time in missed[:-1]:
            self._missed(run_time, "coalesced: only the latest missed run is made up")

    def _on_missed(self, event: JobExecutionEvent) -> None:
        late = dt.datetime.now(dt.UTC) - event.scheduled_run_time
        self._missed(
            event.scheduled_run_time,
            f"{describe_duration(late.total_seconds())} late, past DIGEST_MISFIRE_GRACE="
            f"{describe_duration(self.settings.misfire_grace)}; not sent "
            "(DIGEST_SEND_LATE=true makes up late runs)",
        )

    def _missed(self, run_time: dt.datetime, why: str) -> None:
        if _completed(self.engine, run_time):
            return  # a run cut short was resumed at start-up: the store did not know it
        issue = run_time.astimezone(self.settings.zone).date().isoformat()
        detail = f"due {_show(run_time, self.settings.zone)} while digest schedule was down; {why}"
        outcome = RunOutcome(issue=issue, kind="missed", detail=detail)
        _record(self.engine, self.settings, run_time, outcome)
        log.warning("%s", outcome.line)


# --- status ---


def schedule_status(settings: Settings) -> ScheduleStatus:
    """The last run, its outcome, and the next run (from the job store when the job is stored)."""
    url = state_url(settings)
    engine = state_engine(settings)
    try:
        last = next(iter(recent_runs(engine, 1)), None)
        stored = _stored_next_run(engine)
    finally:
        engine.dispose()
    running = lock_holder(url)
    now = dt.datetime.now(dt.UTC)
    upcoming = next_run_times(settings, 1, after=now)
    next_run = stored if stored is not None else (upcoming[0] if upcoming else None)
    return ScheduleStatus(
        schedule=settings.schedule,
        timezone=settings.timezone,
        mode=settings.schedule_mode,
        running=running,
        last_run=last,
        next_run=next_run,
        overdue=next_run is not None and next_run < now and running is None,
    )


def _stored_next_run(engine: Engine) -> dt.datetime | None:
    if not sa.inspect(engine).has_table(JOBS_TABLE):
        return None
    with engine.connect() as conn:
        value = conn.execute(
            sa.text(f"SELECT next_run_time FROM {JOBS_TABLE} WHERE id = :id"), {"id": JOB_ID}
        ).scalar()
    return None if value is None else dt.datetime.fromtimestamp(float(value), dt.UTC)


def serve(settings: Settings) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    scheduler = Scheduler(settings)
    with scheduler.stopping_on_signals():
        scheduler.run()
