"""Where the schedule stands, for `digest status`: the last run, whether a scheduler is running,
and the next run time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.schedule.process import JOB_ID, JOBS_TABLE
from digest.schedule.runs import RunRecord, recent_runs
from digest.schedule.times import next_run_times, show_time
from digest.state.engine import state_engine, state_url
from digest.state.lock import LockHolder, lock_holder


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
                f"Last run: issue {run.issue}, started {show_time(run.started_at, zone)}: "
                f"{outcome}{': ' + run.detail if run.detail else ''}"
            )
        if self.next_run is None:
            lines.append("Next run: none (the schedule has no future time).")
        else:
            late = " (overdue: digest schedule is not running)" if self.overdue else ""
            lines.append(f"Next run: {show_time(self.next_run, zone)}{late}")
        return lines


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
