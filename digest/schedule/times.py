"""When the daily run is due: the next run times, and the run time a late start is making up for."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from digest.config import Settings
from digest.timing import cron_trigger

LOOKBACK_HOURS = (1, 24, 8 * 24, 32 * 24, 367 * 24, 1462 * 24)
"""Widening windows to look back for the last run time: cheap for frequent schedules, and
reaching a yearly one (29 February included)."""


def show_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`moment` in `zone` as a person reads it, with UTC beside a local time."""
    local = moment.astimezone(dt.UTC).astimezone(zone)
    if local.tzname() == "UTC":
        return f"{local:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M %Z} ({moment.astimezone(dt.UTC):%H:%M} UTC)"


def naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC)


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
