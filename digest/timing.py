"""When scheduled runs happen: the cron trigger (safe across daylight-saving changes) and durations.

Kept apart from digest/schedule/ so that digest/config.py can validate DIGEST_SCHEDULE and
DIGEST_MISFIRE_GRACE without importing the scheduler process."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAY_NAME = r"(mon|tue|wed|thu|fri|sat|sun)"
_DAY_TOKEN = re.compile(rf"^(\*|\?|{_DAY_NAME}(-{_DAY_NAME})?)(/\d+)?$", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms]?)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}


class LocalCronTrigger(CronTrigger):
    """A cron trigger that fires once per wall-clock time, even on daylight-saving nights.

    APScheduler 3.11 fires a time that occurs twice (01:30 on a fall-back night) twice, and can
    return the same instant twice when a skipped hour's times map onto the next hour; a daily
    newsletter must go out once. A time that does not exist (02:30 on a spring-forward night in
    New York) fires once, at the instant it would have had before the change (03:30 EDT)."""

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        candidate = super().get_next_fire_time(previous_fire_time, now)
        while candidate is not None and (
            (previous_fire_time is not None and candidate <= previous_fire_time)
            or self._is_repeat(candidate)
        ):
            candidate = super().get_next_fire_time(candidate, candidate)
        if candidate is None:
            return None
        # Through UTC: astimezone() to the same zone would keep a wall time that does not exist.
        return candidate.astimezone(dt.UTC).astimezone(self.timezone)

    def _is_repeat(self, candidate: dt.datetime) -> bool:
        """True for the second occurrence of a wall-clock time that a fall-back night repeats."""
        wall = candidate.astimezone(dt.UTC).astimezone(self.timezone).replace(tzinfo=None)
        first = wall.replace(tzinfo=self.timezone, fold=0)
        round_trips = first.astimezone(dt.UTC).astimezone(self.timezone).replace(tzinfo=None)
        return round_trips == wall and first < candidate


def cron_trigger(expression: str, zone: ZoneInfo) -> LocalCronTrigger:
    """Parse a five-field cron expression; the day-of-week field must use names, and some date
    must match it (`0 6 31 2 *` was accepted and `digest schedule --next` printed nothing).

    APScheduler 3.x numbers weekdays from Monday=0 while cron uses Sunday=0, so "1-5" would
    silently mean Tuesday to Saturday: numbers are refused rather than guessed."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected five cron fields (minute hour day month day-of-week), got {len(fields)}"
        )
    for token in fields[4].split(","):
        if not _DAY_TOKEN.match(token):
            raise ValueError(
                f"day of week {token!r}: use names such as mon-fri or sat,sun, not numbers "
                "(APScheduler counts Monday as 0, cron counts Sunday as 0)"
            )
    try:
        trigger = LocalCronTrigger.from_crontab(" ".join(fields), timezone=zone)
    except ValueError as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    if trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is None:
        raise ValueError(
            "never fires: no date matches its day, month and day-of-week fields together "
            "(e.g. the 31st of February)"
        )
    return trigger


def parse_duration(value: str | float) -> float:
    """Seconds from 3600, "90s", "30m", "1h" or "1h30m"."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(text)
    spelled = "".join(number + unit for number, unit in parts)
    if not text or spelled != text or (len(parts) > 1 and not all(unit for _, unit in parts)):
        raise ValueError("expected seconds or a duration such as 90s, 30m, 1h or 1h30m")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def describe_duration(seconds: float) -> str:
    """The inverse of parse_duration, for log lines: 5400 → "1h30m"."""
    remaining = round(seconds)
    parts = []
    for unit in ("d", "h", "m"):
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    if remaining or not parts:
        parts.append(f"{remaining}s")
    return "".join(parts)
