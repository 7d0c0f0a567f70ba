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

process.py is the scheduler and its jobs, run.py one run (build, send, retries), runs.py the
`schedule_runs` table, alerts.py the email about a failed run, status.py `digest status`'s lines
about the schedule, times.py the run times.
"""

from __future__ import annotations

import datetime as dt

from digest.config import load_settings
from digest.schedule.run import run_with_retries, stop_on_signals
from digest.schedule.times import last_run_time, trigger_for


def scheduled_run() -> None:
    """The job APScheduler stores, by reference and without arguments: the settings (which hold
    secrets) are read afresh in the process, never pickled into the database. It lives here
    because job stores written before digest/schedule/ became a package hold the reference
    `digest.schedule:scheduled_run` (`digest.schedule.process.JOB_FUNCTION`)."""
    settings = load_settings()
    due = last_run_time(trigger_for(settings), dt.datetime.now(dt.UTC))
    due = due or dt.datetime.now(dt.UTC)
    with stop_on_signals() as stop:
        run_with_retries(settings, due.astimezone(settings.zone).date(), stop, scheduled_for=due)
