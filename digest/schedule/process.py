"""The `digest schedule` process: the lock, the run a stop cut short, then APScheduler with the
daily job in the state database (added only when absent, so a run missed while the process was
down stays due) and the bounce mailbox's job in memory."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED, JobExecutionEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest.config import Settings
from digest.schedule.run import mailbox_run, prune_run, run_with_retries, stop_on_signals
from digest.schedule.runs import RunOutcome, completed, finish_run, recent_runs, record_missed
from digest.schedule.times import show_time, trigger_for
from digest.signals import on_stop_signals, signal_name
from digest.state.engine import state_engine, state_url
from digest.state.lock import instance_lock
from digest.timing import describe_duration

log = logging.getLogger("digest.schedule")

JOB_ID = "digest-daily-issue"
JOB_FUNCTION = "digest.schedule:scheduled_run"
"""The daily job as the job store keeps it: a reference, which existing databases hold."""
MAILBOX_JOB_ID = "digest-mailbox"
PRUNE_JOB_ID = "digest-prune-unconfirmed"
PRUNE_INTERVAL = 24 * 3600
JOBS_TABLE = "apscheduler_jobs"


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
            finish_run(
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
                JOB_FUNCTION, self.trigger, id=JOB_ID, name="the daily issue", **self.job_options
            )
        else:
            if repr(job.trigger) != repr(self.trigger):
                log.info("DIGEST_SCHEDULE changed: %s → %s", job.trigger, self.trigger)
                job = self.scheduler.reschedule_job(JOB_ID, trigger=self.trigger)
            elif any(getattr(job, name) != value for name, value in self.job_options.items()):
                job = self.scheduler.modify_job(JOB_ID, **self.job_options)
            self._log_coalesced(job.next_run_time)
        if job.next_run_time is not None:
            log.info("Next run: %s", show_time(job.next_run_time, self.settings.zone))

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
        if completed(self.engine, run_time):
            return  # a run cut short was resumed at start-up: the store did not know it
        issue = run_time.astimezone(self.settings.zone).date().isoformat()
        detail = (
            f"due {show_time(run_time, self.settings.zone)} while digest schedule was down; {why}"
        )
        outcome = RunOutcome(issue=issue, kind="missed", detail=detail)
        record_missed(self.engine, self.settings, run_time, outcome)
        log.warning("%s", outcome.line)


def serve(settings: Settings) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    scheduler = Scheduler(settings)
    with scheduler.stopping_on_signals():
        scheduler.run()
