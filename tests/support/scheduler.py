"""Drive digest's real scheduler (APScheduler with its SQLite job store) from a test: run it on a
thread, watch its job events, and leave a stored job due at a chosen time, as if the process had
been down when it came."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
)

from digest.config import Settings
from digest.schedule.process import JOB_ID, Scheduler

WAIT = 30.0
"""Seconds before a test gives up waiting for the scheduler: a guard, never a measurement."""


@contextmanager
def running(scheduler: Scheduler) -> Iterator[queue.SimpleQueue[JobExecutionEvent]]:
    """Run `scheduler` on a thread until the block ends; yield the daily job's events as they
    happen (not those of the jobs beside it: the mailbox, the pruning of sign-ups)."""
    events: queue.SimpleQueue[JobExecutionEvent] = queue.SimpleQueue()
    started = threading.Event()
    failures: list[BaseException] = []

    def daily(event: JobExecutionEvent) -> None:
        if event.job_id == JOB_ID:
            events.put(event)

    scheduler.scheduler.add_listener(daily, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)

    def run() -> None:
        try:
            scheduler.run()
        except BaseException as exc:
            failures.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=run, name="test-scheduler")
    thread.start()
    started.wait(WAIT)
    try:
        if failures:
            raise failures[0]
        yield events
    finally:
        scheduler.stop()
        thread.join(WAIT)
    assert not thread.is_alive(), "the scheduler did not stop"
    if failures:
        raise failures[0]


def store_due_job(settings: Settings, due: dt.datetime) -> None:
    """Start a scheduler so it stores its job, move the job's next run to `due`, and stop it
    before it can run: what the store holds after a process went down with a run ahead."""
    scheduler = Scheduler(settings)

    def hold(_event: object) -> None:
        # On the scheduler's thread, after its job is stored and before it looks for due jobs.
        scheduler.scheduler.pause()
        scheduler.scheduler.modify_job(JOB_ID, next_run_time=due)

    scheduler.scheduler.add_listener(hold, EVENT_SCHEDULER_STARTED)
    with running(scheduler):
        pass
