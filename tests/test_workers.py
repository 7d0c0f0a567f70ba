"""Many senders, one send: `digest send --workers N`, `digest worker` joining from outside, a
worker SIGKILLed or SIGTERMed mid-send, and the PostgreSQL server restarted mid-send. Real
processes, one aiosmtpd server counting what it receives, a real database."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.config import load_settings
from digest.message import MessageTemplate, compose
from digest.models import PREVIEW_RECIPIENT, Issue, RenderedEmail, Story
from digest.state.engine import open_engine
from digest.state.ledger import Ledger
from digest.state.schema import SENT, deliveries, send_workers
from tests.support.postgres import PostgresServer
from tests.support.smtp_server import SmtpServer
from tests.support.waiting import until
from tests.test_send_command import _env, _list, issue_folder  # noqa: F401

ISSUE = "2026-11-26"
WAIT = 120.0


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts, killed at its end if still running."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def sending_env(server: SmtpServer, tmp_path: Path, url: str, count: int, **extra: str):  # type: ignore[no-untyped-def]
    return _env(
        server,
        DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", count)),
        DIGEST_STATE_URL=url,
        DIGEST_SMTP_CONNECTIONS="2",
        DIGEST_SEND_BATCH="10",
        **extra,
    )


def everyone_once(server: SmtpServer, count: int) -> None:
    assert server.recipients() == {f"reader{n}@example.com": 1 for n in range(count)}


def worker_sent(engine: sa.Engine, pid: int) -> int:
    """What the sender with `pid` says it sent (its heartbeat's count)."""
    with engine.connect() as conn:
        query = sa.select(send_workers.c.sent).where(send_workers.c.pid == pid)
        return int(conn.scalar(query) or 0)


def sent_so_far(url: str) -> int:
    engine = open_engine(url)
    try:
        return Ledger(engine).counts(ISSUE)[SENT]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("workers", "backend"), [(2, "sqlite"), (2, "postgresql"), (4, "postgresql")]
)
def test_n_worker_processes_reach_everyone_exactly_once(
    issue_folder: Path,  # noqa: F811
    tmp_path: Path,
    request: pytest.FixtureRequest,
    workers: int,
    backend: str,
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_server").create_database()
    )
    count = 300
    with SmtpServer() as server:
        env = sending_env(server, tmp_path, url, count, DIGEST_SMTP_RATE="100")
        result = subprocess.run(
            [sys.executable, "-m", "digest", "send", "--workers", str(workers)],
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    everyone_once(server, count)
    helped = [int(n) for n in re.findall(r"this worker sent (\d+), failed 0", result.stderr)]
    assert len(helped) == workers and sum(helped) == count, result.stderr
    assert f"Issue {ISSUE}: {count} sent, 0 failed" in result.stderr


def test_a_worker_killed_mid_send_loses_its_rows_to_the_others(
    issue_folder: Path,  # noqa: F811
    tmp_path: Path,
    database_url: str,
    stopped: list[subprocess.Popen[str]],
) -> None:
    """SIGKILL: the rows it claimed and never handed over come back (a short lease; on this
    machine as soon as another sender finds its pid gone); the ones in the relay's hands when it
    died go out again, at most one per connection, with the same Message-ID."""
    count = 240
    with SmtpServer() as server:
        env = sending_env(
            server,
            tmp_path,
            database_url,
            count,
            DIGEST_SMTP_RATE="12",
            DIGEST_SMTP_TIMEOUT="1",
            DIGEST_SEND_LEASE="6",
        )
        lead = start(env, "send", "--workers", "1")
        stopped.append(lead)
        until(lambda: len(server.received) >= 10, "the lead to start sending")
        victim, other = start(env, "worker", "--once"), start(env, "worker", "--once")
        stopped.extend([victim, other])
        engine = open_engine(database_url)
        until(lambda: worker_sent(engine, victim.pid) >= 2, "the victim to send some messages")
        victim.kill()
        assert victim.wait(WAIT) == -signal.SIGKILL
        assert lead.wait(WAIT) == 0, lead.stderr.read() if lead.stderr else ""
        assert other.wait(WAIT) == 0
        with engine.connect() as conn:
            claimed = conn.scalar(
                sa.select(sa.func.count()).where(deliveries.c.claimed_by.isnot(None))
            )
        engine.dispose()
    counts = server.recipients()
    assert set(counts) == {f"reader{n}@example.com" for n in range(count)}
    repeated = [address for address, seen in counts.items() if seen > 1]
    assert len(repeated) <= 2 and max(counts.values()) <= 2  # DIGEST_SMTP_CONNECTIONS=2
    for address in repeated:
        ids = {m.message["Message-ID"] for m in server.received if m.rcpt_tos == (address,)}
        assert len(ids) == 1
    assert sent_so_far(database_url) == count and claimed == 0


def test_a_worker_started_after_the_send_began_joins_it_and_sigterm_lets_it_go_cleanly(
    issue_folder: Path,  # noqa: F811
    tmp_path: Path,
    database_url: str,
    stopped: list[subprocess.Popen[str]],
) -> None:
    count = 300
    with SmtpServer() as server:
        env = sending_env(server, tmp_path, database_url, count, DIGEST_SMTP_RATE="30")
        lead = start(env, "send", "--workers", "1")
        stopped.append(lead)
        until(lambda: len(server.received) >= 20, "the lead to start sending")
        late = start(env, "worker")
        quitter = start(env, "worker")
        stopped.extend([late, quitter])
        engine = open_engine(database_url)
        until(lambda: worker_sent(engine, quitter.pid) > 0, "the second worker to send")
        quitter.send_signal(signal.SIGTERM)
        assert quitter.wait(WAIT) == 0
        assert lead.wait(WAIT) == 0
        late.send_signal(signal.SIGTERM)  # waiting for the next send: stops at once
        assert late.wait(WAIT) == 0
        late_log = late.stderr.read() if late.stderr else ""
        quitter_log = quitter.stderr.read() if quitter.stderr else ""
    everyone_once(server, count)
    joined = re.search(r"this worker sent (\d+), failed 0", late_log)
    assert joined and int(joined[1]) > 0, late_log
    assert "SIGTERM: finishing the messages in flight" in quitter_log
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(send_workers)) == 0
    engine.dispose()


def test_workers_ride_out_a_postgresql_restart_mid_send(
    issue_folder: Path,  # noqa: F811
    tmp_path: Path,
    stopped: list[subprocess.Popen[str]],
) -> None:
    count = 300
    with PostgresServer() as database, SmtpServer() as server:
        url = database.create_database()
        env = sending_env(server, tmp_path, url, count, DIGEST_SMTP_RATE="60")
        lead = start(env, "send", "--workers", "2")
        stopped.append(lead)
        until(lambda: len(server.received) >= 60, "the workers to start sending")
        database.restart()
        received = len(server.received)
        assert lead.wait(WAIT) == 0, lead.stderr.read() if lead.stderr else ""
        assert received < count  # the restart happened mid-send
        assert sent_so_far(url) == count
    everyone_once(server, count)


def test_the_stored_message_is_the_leads_message_byte_for_byte(tmp_path: Path) -> None:
    settings = load_settings(issues_dir=tmp_path, secret_key="a-test-secret-that-is-long-enough")
    issue = Issue(
        date=dt.date(2026, 11, 26),
        newsletter="The Daily Digest",
        subject="Harbour talks résumé",
        preheader="Today",
        lead=Story(title="Harbour", url="https://news.example.com/h", lead=True),
    )
    rendered = RenderedEmail(
        html="<p>Héllo DIGESTSUBSCRIBERNAME</p><a href='u?t=DIGESTUNSUBSCRIBETOKEN'>x</a>",
        text="Hello DIGESTSUBSCRIBERNAME, unsubscribe: DIGESTUNSUBSCRIBETOKEN",
    )
    template = compose(issue, rendered, settings)
    stored = MessageTemplate.from_stored(template.stored(), settings)
    assert stored == template
    assert stored.personalise(PREVIEW_RECIPIENT) == template.personalise(PREVIEW_RECIPIENT)
    assert "dkim" not in template.stored()  # the key is a secret: each sender uses its own
