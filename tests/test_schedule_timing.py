"""Run times: real cron computations across the daylight-saving changes of 2026, the day-of-week
trap, durations, and which run a late job is making up for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from digest.config import load_settings
from digest.errors import ConfigError
from digest.schedule.times import last_run_time, next_run_times
from digest.timing import cron_trigger, describe_duration, parse_duration

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def fire_times(expression: str, zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list:
    """Every fire time in [start, end), following the trigger as the scheduler does."""
    trigger = cron_trigger(expression, zone)
    times = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def local(times: list[dt.datetime], zone: ZoneInfo) -> list[str]:
    return [
        moment.astimezone(UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for moment in times
    ]


def utc(times: list[dt.datetime]) -> list[str]:
    return [moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for moment in times]


@pytest.mark.parametrize(
    ("zone", "change", "before", "after"),
    [
        (NEW_YORK, dt.date(2026, 3, 8), "EST", "EDT"),
        (NEW_YORK, dt.date(2026, 11, 1), "EDT", "EST"),
        (LONDON, dt.date(2026, 3, 29), "GMT", "BST"),
        (LONDON, dt.date(2026, 10, 25), "BST", "GMT"),
    ],
)
def test_six_in_the_morning_stays_six_local_across_the_change(
    zone: ZoneInfo, change: dt.date, before: str, after: str
) -> None:
    start = dt.datetime.combine(change - dt.timedelta(days=2), dt.time(), zone)
    times = fire_times("0 6 * * *", zone, start, start + dt.timedelta(days=5))
    days = [change + dt.timedelta(days=offset) for offset in (-2, -1, 0, 1, 2)]
    zones = [before, before, after, after, after]
    assert local(times, zone) == [
        f"{day:%Y-%m-%d} 06:00 {name}" for day, name in zip(days, zones, strict=True)
    ]
    offsets = {moment.astimezone(zone).utcoffset() for moment in times}
    assert len(offsets) == 2  # the UTC time moved by an hour, the local one did not


def test_a_time_that_does_not_exist_in_new_york_fires_once_an_hour_later() -> None:
    """02:30 on 8 March 2026 never happens in New York (02:00 EST jumps to 03:00 EDT): the run
    happens once, at 03:30 EDT (07:30 UTC, the instant 02:30 EST would have been)."""
    start = dt.datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    times = fire_times("30 2 * * *", NEW_YORK, start, start + dt.timedelta(days=2))
    assert local(times, NEW_YORK) == ["2026-03-08 03:30 EDT", "2026-03-09 02:30 EDT"]
    assert utc(times) == ["2026-03-08 07:30", "2026-03-09 06:30"]


def test_a_time_that_occurs_twice_in_new_york_fires_once_the_first_time() -> None:
    """01:30 on 1 November 2026 happens twice in New York (EDT, then EST an hour later)."""
    start = dt.datetime(2026, 10, 31, 12, tzinfo=NEW_YORK)
    times = fire_times("30 1 * * *", NEW_YORK, start, start + dt.timedelta(days=2))
    assert local(times, NEW_YORK) == ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]
    assert utc(times) == ["2026-11-01 05:30", "2026-11-02 06:30"]


def test_the_london_gap_and_the_london_repeat_each_fire_once() -> None:
    """London skips 01:00-02:00 GMT on 29 March and repeats 01:00-02:00 on 25 October 2026."""
    spring = dt.datetime(2026, 3, 28, 12, tzinfo=LONDON)
    times = fire_times("30 1 * * *", LONDON, spring, spring + dt.timedelta(days=2))
    assert local(times, LONDON) == ["2026-03-29 02:30 BST", "2026-03-30 01:30 BST"]
    autumn = dt.datetime(2026, 10, 24, 12, tzinfo=LONDON)
    times = fire_times("30 1 * * *", LONDON, autumn, autumn + dt.timedelta(days=2))
    assert local(times, LONDON) == ["2026-10-25 01:30 BST", "2026-10-26 01:30 GMT"]
    assert utc(times) == ["2026-10-25 00:30", "2026-10-26 01:30"]


def test_a_schedule_inside_the_changed_hours_never_fires_one_instant_twice() -> None:
    """Every half hour from 01:00 to 03:59: on the spring night APScheduler maps 01:00 GMT and
    02:00 BST onto one instant; on the autumn night 01:00 and 01:30 come round twice."""
    spring = dt.datetime(2026, 3, 29, tzinfo=LONDON)
    times = fire_times("*/30 1-3 * * *", LONDON, spring, spring + dt.timedelta(days=1))
    assert len(set(times)) == len(times)
    assert local(times, LONDON) == [
        "2026-03-29 02:00 BST",
        "2026-03-29 02:30 BST",
        "2026-03-29 03:00 BST",
        "2026-03-29 03:30 BST",
    ]
    autumn = dt.datetime(2026, 11, 1, tzinfo=NEW_YORK)
    times = fire_times("*/30 1-3 * * *", NEW_YORK, autumn, autumn + dt.timedelta(days=1))
    assert [moment.strftime("%H:%M") for moment in times] == [
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]


def test_the_next_run_times_are_listed_in_local_time() -> None:
    settings = load_settings(schedule="0 6 * * mon-fri", timezone="America/New_York")
    after = dt.datetime(2026, 10, 29, 12, tzinfo=UTC)  # a Thursday
    times = next_run_times(settings, 4, after=after)
    assert local(times, NEW_YORK) == [
        "2026-10-30 06:00 EDT",
        "2026-11-02 06:00 EST",
        "2026-11-03 06:00 EST",
        "2026-11-04 06:00 EST",
    ]
    assert utc(times) == [
        "2026-10-30 10:00",
        "2026-11-02 11:00",
        "2026-11-03 11:00",
        "2026-11-04 11:00",
    ]


def test_a_late_job_knows_which_run_it_makes_up_for() -> None:
    """A 23:30 run made up at 00:10 builds the issue of the day before."""
    trigger = cron_trigger("30 23 * * *", LONDON)
    now = dt.datetime(2026, 11, 27, 0, 10, tzinfo=LONDON)
    assert last_run_time(trigger, now) == dt.datetime(2026, 11, 26, 23, 30, tzinfo=LONDON)
    yearly = cron_trigger("0 6 29 feb *", LONDON)
    assert last_run_time(yearly, now) == dt.datetime(2024, 2, 29, 6, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 6 * * 1-5", "day of week '1-5': use names such as mon-fri"),
        ("0 6 * * mon,5", "day of week '5'"),
        ("0 6 * *", "expected five cron fields"),
        ("0 24 * * *", "not a valid cron expression"),
        ("61 6 * * *", "not a valid cron expression"),
    ],
)
def test_a_wrong_schedule_is_one_line_naming_the_setting(expression: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(schedule=expression)
    text = str(caught.value)
    assert text.startswith("DIGEST_SCHEDULE: ")
    assert message in text
    assert "\n" not in text


def test_day_names_ranges_and_steps_are_accepted() -> None:
    for expression in ("0 6 * * mon-fri", "15 7 * * SAT,sun", "0 */2 * * *", "0 6 1 * *"):
        assert load_settings(schedule=expression).schedule == expression


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("90s", 90), ("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("2d", 172800)],
)
def test_grace_accepts_seconds_and_durations(text: str, seconds: float) -> None:
    assert load_settings(misfire_grace=text).misfire_grace == seconds
    assert parse_duration(describe_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1h30", "-5", "1 hour"])
def test_grace_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^DIGEST_MISFIRE_GRACE: "):
        load_settings(misfire_grace=text)


def test_the_default_grace_is_one_hour() -> None:
    assert load_settings().misfire_grace == 3600


def test_alert_addresses_are_checked() -> None:
    assert load_settings(alert_to="ops@example.com, Night Desk <desk@example.com>").alert_to
    with pytest.raises(ConfigError, match=r"^DIGEST_ALERT_TO: "):
        load_settings(alert_to="ops at example")
