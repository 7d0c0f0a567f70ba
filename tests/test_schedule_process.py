"""`digest schedule` as an operator runs it: real processes, killed and restarted, against a real
SQLite state database and a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.schedule.runs import recent_runs
from digest.state.engine import state_engine, state_url
from digest.state.ledger import Ledger
from digest.state.lock import lock_holder
from digest.state.schema import SENT
from tests.support.scheduler import WAIT, store_due_job
from tests.support.smtp_server import Faults, SmtpServer
from tests.support.waiting import until

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = 30


class Digest:
    """Runs `python -m digest` with the test's settings, as separate processes."""

    def __init__(self, folder: Path, settings: dict[str, str]) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        self.env |= {f"DIGEST_{name.upper()}": value for name, value in settings.items()}
        self.env["PYTHONPATH"] = str(ROOT)
        self.env["COLUMNS"] = "300"
        self.logs: list[Path] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"schedule-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as stderr:
            return subprocess.Popen(
                [sys.executable, "-m", "digest", "schedule", *args],
                cwd=self.folder,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "digest", "schedule", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )

    def log(self, number: int) -> str:
        return self.logs[number].read_text(encoding="utf-8", errors="replace")


@contextmanager
def stopped_at_end(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def settings_for(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> Settings:
    """The same settings in this process (for the job store and the ledger) as in the children."""
    for name, value in values.items():
        monkeypatch.setenv(f"DIGEST_{name.upper()}", value)
    return load_settings()


def far_schedule() -> str:
    return f"0 {(dt.datetime.now(dt.UTC).hour + 12) % 24} * * *"


def held_by(settings: Settings, pid: int) -> Callable[[], bool]:
    def check() -> bool:
        holder = lock_holder(state_url(settings))
        return holder is not None and holder.pid == pid

    return check


def test_a_second_scheduler_refuses_and_a_killed_one_releases_its_lock(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    values = {"schedule": far_schedule(), "schedule_mode": "preview", "state_url": database_url}
    settings = settings_for(monkeypatch, values)
    digest = Digest(isolated_environment, values)
    with stopped_at_end(digest.start()) as first:
        until(held_by(settings, first.pid), "the first scheduler to hold the lock", within=WAIT)
        second = digest.run()
        assert second.returncode == 1, second.stderr
        assert f"already running on this state database (pid {first.pid} on " in second.stderr
        first.send_signal(signal.SIGKILL)
        assert first.wait(WAIT) == -signal.SIGKILL
    with stopped_at_end(digest.start()) as third:
        until(
            held_by(settings, third.pid), "a new scheduler to start after the SIGKILL", within=WAIT
        )
        third.send_signal(signal.SIGTERM)
        assert third.wait(WAIT) == 0, digest.log(1)
    assert lock_holder(state_url(settings)) is None


def mailing_settings(server: SmtpServer, folder: Path) -> dict[str, str]:
    path = folder / "subscribers.csv"
    rows = [f"reader{number:02d}@example.com,Reader {number}" for number in range(SUBSCRIBERS)]
    path.write_text("email,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return {
        "schedule": far_schedule(),
        "misfire_grace": "1h",
        "subscribers": str(path),
        "secret_key": "a-test-secret-that-is-long-enough-0123456789",
        "smtp_host": server.host,
        "smtp_port": str(server.port),
        "smtp_security": "none",
        "smtp_connections": "2",
        "smtp_rate": "40",
        "smtp_retry_delay": "0",
    }


def sent_in_ledger(settings: Settings, issue: str) -> int:
    engine = state_engine(settings)
    try:
        return Ledger(engine).counts(issue)[SENT]
    finally:
        engine.dispose()


def outcomes(settings: Settings) -> list[str | None]:
    engine = state_engine(settings)
    try:
        return [run.outcome for run in reversed(recent_runs(engine))]
    finally:
        engine.dispose()


def test_sigterm_during_a_send_then_the_next_start_sends_the_rest_exactly_once(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer() as server:
        values = mailing_settings(server, isolated_environment)
        settings = settings_for(monkeypatch, values)
        store_due_job(settings, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        digest = Digest(isolated_environment, values)

        with stopped_at_end(digest.start()) as first:
            until(lambda: len(server.received) >= 3, "the send to begin", within=WAIT)
            first.send_signal(signal.SIGTERM)
            assert first.wait(WAIT) == 0, digest.log(0)
        delivered = len(server.received)
        assert 3 <= delivered < SUBSCRIBERS
        [issue] = {run.issue for run in recent_runs(state_engine(settings))}
        assert sent_in_ledger(settings, issue) == delivered
        assert outcomes(settings) == ["interrupted"]
        assert "finishing the messages in flight" in digest.log(0)

        with stopped_at_end(digest.start()) as second:
            until(lambda: len(server.received) == SUBSCRIBERS, "the rest of the list", within=WAIT)
            until(
                lambda: outcomes(settings)[-1] == "sent", "the resumed run to finish", within=WAIT
            )
            second.send_signal(signal.SIGTERM)
            assert second.wait(WAIT) == 0, digest.log(1)
        assert f"Issue {issue}: resuming the run that was cut short" in digest.log(1)

    counts = server.recipients()
    assert len(counts) == SUBSCRIBERS
    assert set(counts.values()) == {1}
    assert sent_in_ledger(settings, issue) == SUBSCRIBERS


def test_sigkill_during_a_send_then_a_restart_within_grace_sends_the_rest_exactly_once(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer() as server:
        # One connection: every message before the killed one was recorded before it began.
        values = mailing_settings(server, isolated_environment) | {"smtp_connections": "1"}
        settings = settings_for(monkeypatch, values)
        store_due_job(settings, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        digest = Digest(isolated_environment, values)

        with stopped_at_end(digest.start()) as first:
            server.faults = Faults(kill=(first.pid, 6))
            assert first.wait(WAIT) == -signal.SIGKILL
        delivered = len(server.received)
        assert delivered < SUBSCRIBERS
        assert outcomes(settings) == [None]  # the run never got to record its end

        with stopped_at_end(digest.start()) as second:
            until(lambda: len(server.received) >= SUBSCRIBERS, "the rest of the list", within=WAIT)
            until(lambda: "sent" in outcomes(settings), "the run to be resumed", within=WAIT)
            second.send_signal(signal.SIGTERM)
            assert second.wait(WAIT) == 0, digest.log(1)

    counts = server.recipients()
    assert len(counts) == SUBSCRIBERS
    assert set(counts.values()) == {1}
