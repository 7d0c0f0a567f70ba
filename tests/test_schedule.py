"""The scheduler with its real parts: APScheduler and its SQLite job store in tmp_path, the bundled
sample feed, the ledger, and aiosmtpd on 127.0.0.1 for sends and alerts."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.util import obj_to_ref, ref_to_obj
from typer.testing import CliRunner

from digest.cli import app
from digest.config import Settings, load_settings
from digest.errors import DigestError
from digest.pipeline import build_issue
from digest.schedule import scheduled_run
from digest.schedule.process import JOB_FUNCTION, Scheduler
from digest.schedule.run import run_now, run_with_retries
from digest.schedule.runs import recent_runs
from digest.schedule.status import schedule_status
from digest.schedule.times import last_run_time, trigger_for
from digest.state.engine import state_engine
from digest.state.ledger import Ledger
from digest.state.schema import schedule_runs as runs_table
from digest.store import issue_dates
from tests.support.scheduler import WAIT, running, store_due_job
from tests.support.smtp_server import SmtpServer, free_port

UTC = dt.UTC


def far_schedule(now: dt.datetime) -> str:
    """A daily time twelve hours away, so no run comes round by itself during a test."""
    return f"0 {(now.hour + 12) % 24} * * *"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set DIGEST_* variables (the job reads its settings afresh, as in the real process)."""

    def apply(**values: object) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(f"DIGEST_{name.upper()}", str(value))
        return load_settings()

    return apply


def subscribers(folder: Path, count: int) -> Path:
    path = folder / "subscribers.csv"
    rows = [f"reader{number:02d}@example.com,Reader {number}" for number in range(count)]
    path.write_text("email,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def smtp_settings(server: SmtpServer, folder: Path, count: int) -> dict[str, object]:
    return {
        "subscribers": subscribers(folder, count),
        "secret_key": "a-test-secret-that-is-long-enough-0123456789",
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_security": "none",
        "smtp_retry_delay": 0,
    }


def runs(settings: Settings) -> list[tuple[str, str | None, str]]:
    """(issue, outcome, detail) of every recorded run, oldest first."""
    engine = state_engine(settings)
    try:
        return [(run.issue, run.outcome, run.detail) for run in reversed(recent_runs(engine))]
    finally:
        engine.dispose()


def test_a_run_missed_while_down_is_made_up_once_within_grace(configure) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(UTC)
    settings = configure(schedule=far_schedule(now), schedule_mode="preview", misfire_grace="1m")
    store_due_job(settings, now - dt.timedelta(seconds=5))
    assert schedule_status(settings).overdue

    with running(Scheduler(settings)) as events:
        event = events.get(timeout=WAIT)
    assert event.code == EVENT_JOB_EXECUTED
    assert [outcome for _, outcome, _ in runs(settings)] == ["built"]
    assert len(issue_dates(settings)) == 1

    status = schedule_status(settings)
    assert status.next_run is not None and status.next_run > dt.datetime.now(UTC)
    assert not status.overdue and status.running is None
    assert status.last_run is not None and status.last_run.outcome == "built"
    with running(Scheduler(settings)) as events:
        assert events.empty()
    assert len(runs(settings)) == 1


def test_a_run_missed_past_grace_is_logged_not_sent_unless_send_late(
    configure,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt.datetime.now(UTC)
    settings = configure(schedule=far_schedule(now), schedule_mode="preview", misfire_grace="2s")
    due = now - dt.timedelta(seconds=30)
    store_due_job(settings, due)
    with (
        caplog.at_level(logging.WARNING, "digest.schedule"),
        running(Scheduler(settings)) as events,
    ):
        assert events.get(timeout=WAIT).code == EVENT_JOB_MISSED
    issue = due.date().isoformat()
    [(missed_issue, outcome, detail)] = runs(settings)
    assert (missed_issue, outcome) == (issue, "missed")
    assert "past DIGEST_MISFIRE_GRACE=2s; not sent" in detail
    assert any(f"Issue {issue}: missed:" in record.message for record in caplog.records)
    assert issue_dates(settings) == []

    late = configure(send_late="true")
    store_due_job(late, due)
    with running(Scheduler(late)) as events:
        assert events.get(timeout=WAIT).code == EVENT_JOB_EXECUTED
    assert [outcome for _, outcome, _ in runs(settings)] == ["missed", "built"]
    assert len(issue_dates(settings)) == 1


def test_several_missed_runs_are_coalesced_into_one(configure) -> None:  # type: ignore[no-untyped-def]
    """Down for two days: the latest run (due this minute) is made up once, the others logged."""
    now = dt.datetime.now(UTC)
    settings = configure(
        schedule=f"{now.minute} {now.hour} * * *", schedule_mode="preview", misfire_grace="3m"
    )
    this_minute = now.replace(second=0, microsecond=0)
    store_due_job(settings, this_minute - dt.timedelta(days=2))
    with running(Scheduler(settings)) as events:
        assert events.get(timeout=WAIT).code == EVENT_JOB_EXECUTED
    recorded = runs(settings)
    assert [outcome for _, outcome, _ in recorded] == ["missed", "missed", "built"]
    assert "coalesced" in recorded[0][2]
    assert [issue for issue, _, _ in recorded] == [
        (this_minute - dt.timedelta(days=days)).date().isoformat() for days in (2, 1, 0)
    ]
    assert issue_dates(settings) == [this_minute.date()]


def test_a_changed_setting_updates_the_stored_job_and_keeps_its_missed_run(configure) -> None:  # type: ignore[no-untyped-def]
    """The stored job is not replaced at start-up (that would drop its missed run): a new grace
    applies to the run already due, and a new schedule moves the next run."""
    now = dt.datetime.now(UTC)
    settings = configure(schedule=far_schedule(now), schedule_mode="preview", misfire_grace="1h")
    store_due_job(settings, now - dt.timedelta(seconds=20))
    stricter = configure(misfire_grace="5s")
    with running(Scheduler(stricter)) as events:
        assert events.get(timeout=WAIT).code == EVENT_JOB_MISSED
    moved = configure(schedule="45 4 * * *", timezone="Asia/Tokyo")
    with running(Scheduler(moved)) as events:
        assert events.empty()
    status = schedule_status(moved)
    assert status.next_run is not None
    local = status.next_run.astimezone(moved.zone)
    assert (local.hour, local.minute) == (4, 45)


def test_a_second_scheduler_on_the_same_database_refuses_to_start(
    configure, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    settings = configure(
        schedule=far_schedule(dt.datetime.now(UTC)),
        schedule_mode="preview",
        state_url=database_url,
    )
    with running(Scheduler(settings)):
        assert schedule_status(settings).running is not None
        with pytest.raises(DigestError) as caught:
            Scheduler(settings).run()
        message = str(caught.value)
        assert f"pid {os.getpid()} on " in message and "running since" in message
        with pytest.raises(DigestError, match="already running"):
            run_now(settings)
    assert schedule_status(settings).running is None


def test_an_issue_is_sent_once_even_when_run_twice(
    configure,  # type: ignore[no-untyped-def]
    isolated_environment: Path,
    database_url: str,
) -> None:
    with SmtpServer() as server:
        settings = configure(
            state_url=database_url, **smtp_settings(server, isolated_environment, 5)
        )
        first = run_now(settings)
        second = run_now(settings)
    assert (first.kind, first.sent, first.failed) == ("sent", 5, 0)
    assert (second.kind, second.detail) == ("skipped", "already sent")
    assert sorted(server.recipients().values()) == [1] * 5
    status = schedule_status(settings)
    assert status.last_run is not None and status.last_run.outcome == "skipped"
    assert any("Last run: issue" in line for line in status.lines())


def test_a_day_without_new_stories_is_skipped_without_email(
    configure, isolated_environment: Path
) -> None:  # type: ignore[no-untyped-def]
    with SmtpServer() as server:
        settings = configure(more_count=10, **smtp_settings(server, isolated_environment, 3))
        today = dt.date(2026, 11, 26)
        build_issue(settings, date=today - dt.timedelta(days=1))  # carries every sample story
        outcome = run_with_retries(settings, today, threading.Event())
        assert outcome.kind == "skipped"
        assert outcome.detail.startswith("no new stories to send")
        assert server.received == []
        assert today not in issue_dates(settings)

        strict = configure(skip_if_no_new="false", run_retries=0)
        failed = run_with_retries(strict, today, threading.Event())
        assert failed.kind == "failed" and "no new stories" in failed.detail
    assert server.received == []


def test_a_failing_run_is_retried_then_alerts(
    configure,  # type: ignore[no-untyped-def]
    isolated_environment: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = f"http://127.0.0.1:{free_port()}/feed.xml"
    with SmtpServer() as server:
        settings = configure(
            sources=down,
            run_retries=2,
            run_retry_delay=0,
            alert_to="Night Desk <desk@b\u00fccher.example>",
            **smtp_settings(server, isolated_environment, 3),
        )
        with caplog.at_level(logging.INFO, "digest.schedule"):
            outcome = run_with_retries(settings, dt.date(2026, 11, 26), threading.Event())
    assert outcome.kind == "failed"
    assert down in outcome.detail and "after 3 attempts" in outcome.detail
    retries = [
        r.message for r in caplog.records if "failed:" in r.message and "retrying" in r.message
    ]
    assert len(retries) == 2
    [alert] = server.received
    assert alert.rcpt_tos == ("desk@xn--bcher-kva.example",)
    assert alert.message["Subject"] == "[The Daily Digest] scheduled run failed: issue 2026-11-26"
    assert down in alert.message.get_content()
    assert Ledger(state_engine(settings)).send_state("2026-11-26") is None


def test_a_failed_alert_is_logged_and_the_run_still_ends(
    configure,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = configure(
        sources=f"http://127.0.0.1:{free_port()}/feed.xml",
        run_retries=0,
        alert_to="desk@example.com",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_max_attempts=1,
        smtp_retry_delay=0,
    )
    with caplog.at_level(logging.ERROR, "digest.schedule"):
        outcome = run_with_retries(settings, dt.date(2026, 11, 26), threading.Event())
    assert outcome.kind == "failed"
    assert any("Alert to desk@example.com not sent" in r.message for r in caplog.records)


def test_next_prints_local_and_utc_times(configure) -> None:  # type: ignore[no-untyped-def]
    configure(schedule="0 6 * * mon-fri", timezone="America/New_York")
    result = CliRunner().invoke(app, ["schedule", "--next", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    for line in lines:
        local, utc = line.split("  =  ")
        assert local.split()[0] in {"Mon", "Tue", "Wed", "Thu", "Fri"}
        assert local.endswith(("06:00 EST", "06:00 EDT"))
        assert utc.endswith(("11:00 UTC", "10:00 UTC"))


def test_status_shows_the_last_run_its_outcome_and_the_next_run(configure) -> None:  # type: ignore[no-untyped-def]
    settings = configure(schedule="15 7 * * *", timezone="Europe/London", schedule_mode="preview")
    run_now(settings)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Schedule: '15 7 * * *' in Europe/London, preview; not running."
    assert lines[1].startswith("Last run: issue ") and ": built: Built " in lines[1]
    assert lines[2].startswith("Next run: ") and " 07:15 " in lines[2]


def test_an_issue_failing_the_check_is_not_sent_and_alerts_at_once(
    configure,  # type: ignore[no-untyped-def]
    isolated_environment: Path,
) -> None:
    """The gate `digest send` applies holds for scheduled sends too: an editor emptied the
    preheader of the prepared issue, so nobody gets it and the desk hears about it."""
    with SmtpServer() as server:
        settings = configure(
            alert_to="desk@example.com", **smtp_settings(server, isolated_environment, 3)
        )
        day = dt.date(2026, 11, 26)
        folder = build_issue(settings, date=day).folder
        issue_json = folder / "issue.json"
        edited = json.loads(issue_json.read_text(encoding="utf-8")) | {"preheader": ""}
        issue_json.write_text(json.dumps(edited), encoding="utf-8")
        outcome = run_with_retries(settings, day, threading.Event())
    assert outcome.kind == "failed"
    assert "fails `digest check`" in outcome.detail and "preheader" in outcome.detail
    assert [message.rcpt_tos for message in server.received] == [("desk@example.com",)]


def left_running(settings: Settings, scheduled_for: dt.datetime) -> None:
    """The row a run leaves when its process is killed: started, never finished."""
    engine = state_engine(settings)
    try:
        runs_table.create(engine, checkfirst=True)
        with engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    scheduled_for=scheduled_for.astimezone(UTC).replace(tzinfo=None),
                    issue=scheduled_for.astimezone(settings.zone).date().isoformat(),
                    mode=settings.schedule_mode,
                    started_at=dt.datetime.now(UTC).replace(tzinfo=None),
                )
            )
    finally:
        engine.dispose()


def test_a_run_cut_short_is_resumed_at_start_even_past_grace(
    configure,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt.datetime.now(UTC)
    settings = configure(schedule=far_schedule(now), schedule_mode="preview", misfire_grace="2s")
    due = last_run_time(trigger_for(settings), now)
    assert due is not None
    store_due_job(settings, due)  # a SIGKILL leaves the run due in the store, hours ago
    left_running(settings, due)
    with caplog.at_level(logging.INFO, "digest.schedule"), running(Scheduler(settings)) as events:
        assert events.get(timeout=WAIT).code == EVENT_JOB_MISSED
    issue = due.date().isoformat()
    assert [(i, outcome) for i, outcome, _ in runs(settings)] == [
        (issue, "interrupted"),
        (issue, "built"),
    ]
    assert f"Issue {issue}: resuming the run that was cut short" in caplog.text
    ours = [record.message for record in caplog.records if record.name == "digest.schedule"]
    assert not [message for message in ours if "missed" in message]


def test_a_run_cut_short_is_not_resumed_once_a_later_run_time_passed(
    configure,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt.datetime.now(UTC)
    settings = configure(schedule=far_schedule(now), schedule_mode="preview")
    left_running(settings, last_run_time(trigger_for(settings), now) - dt.timedelta(days=1))
    with caplog.at_level(logging.WARNING, "digest.schedule"), running(Scheduler(settings)):
        pass
    assert [outcome for _, outcome, _ in runs(settings)] == ["interrupted"]
    assert "a later run time has passed; not resumed" in caplog.text
    assert issue_dates(settings) == []


def test_the_daily_job_is_stored_under_the_reference_existing_databases_hold() -> None:
    """A job store written before digest/schedule/ was a package refers to the job by the name
    `digest.schedule:scheduled_run`; it must still load."""
    assert JOB_FUNCTION == "digest.schedule:scheduled_run"
    assert ref_to_obj(JOB_FUNCTION) is scheduled_run
    assert obj_to_ref(scheduled_run) == JOB_FUNCTION
