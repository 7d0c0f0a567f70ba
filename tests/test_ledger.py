"""The ledger on SQLite and PostgreSQL: migrations, de-duplication, resumable reads, durable
outcomes. Each test runs once per backend (the `database_url` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.config import load_settings
from digest.errors import ConfigError, DeliveryError
from digest.models import Subscriber
from digest.state.engine import connect, open_engine, state_engine, state_url
from digest.state.ledger import Ledger, Outcome, Recorder
from digest.state.migrations import MIGRATIONS, migrate
from digest.state.schema import FAILED, PENDING, SENT
from tests.support.smtp_server import free_port

ISSUE = "2026-11-26"


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    engine = open_engine(database_url)
    try:
        yield Ledger(engine)
    finally:
        engine.dispose()


def test_a_blank_database_is_migrated_to_the_current_schema(database_url: str) -> None:
    engine = connect(database_url)
    names = [migration.__name__ for migration in MIGRATIONS]
    assert names[:3] == ["m001_deliveries", "m002_sends", "m003_schedule_runs"]
    assert migrate(engine) == names
    assert migrate(engine) == []
    inspector = sa.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("deliveries")}
    assert columns == {
        "id",
        "issue",
        "email_key",
        "email",
        "name",
        "status",
        "attempts",
        "last_reply",
        "message_id",
        "created_at",
        "updated_at",
        "sent_at",
    }
    assert {c["name"] for c in inspector.get_columns("sends")} == {
        "issue",
        "subject",
        "started_at",
        "finished_at",
    }
    assert {c["name"] for c in inspector.get_columns("bounce_events")} == {
        "id",
        "message_key",
        "email_key",
        "email",
        "kind",
        "issue",
        "delivery_id",
        "evidence",
        "received_at",
    }
    with engine.connect() as conn:
        assert list(conn.scalars(sa.text("SELECT name FROM migrations ORDER BY name"))) == names
    engine.dispose()


def test_processes_opening_a_new_database_together_migrate_it_once(database_url: str) -> None:
    """Several workers starting at once on a blank database: one migrates, the others wait."""
    with ThreadPoolExecutor(6) as pool:
        engines = list(pool.map(lambda _: open_engine(database_url), range(6)))
    with engines[0].connect() as conn:
        applied = conn.scalar(sa.text("SELECT count(*) FROM migrations"))
    for engine in engines:
        engine.dispose()
    assert applied == len(MIGRATIONS)


def test_the_default_database_sits_beside_the_issues_folder_in_wal_mode(tmp_path: Path) -> None:
    settings = load_settings(issues_dir=tmp_path / "news" / "issues")
    assert state_url(settings) == f"sqlite:///{tmp_path / 'news' / 'state.db'}"
    engine = state_engine(settings)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"
    assert (tmp_path / "news" / "state.db").exists()


def test_rows_are_read_in_order_once_even_while_outcomes_are_recorded(ledger: Ledger) -> None:
    added = ledger.enqueue(ISSUE, (Subscriber(email=f"u{n}@example.com") for n in range(1234)))
    assert added == 1234
    seen = []
    for row in ledger.unsent(ISSUE):
        seen.append(row.email)
        ledger.record([Outcome(row.id, SENT, 1, "250 ok", f"<{row.id}@x>")])
    assert seen == [f"u{n}@example.com" for n in range(1234)]
    assert ledger.counts(ISSUE) == {PENDING: 0, SENT: 1234, FAILED: 0}
    assert list(ledger.unsent(ISSUE)) == []


def test_failures_are_kept_with_their_reply_and_retried_only_on_request(ledger: Ledger) -> None:
    ledger.enqueue(ISSUE, [Subscriber(email="a@example.com"), Subscriber(email="b@example.com")])
    first, _ = ledger.unsent(ISSUE)
    ledger.record([Outcome(first.id, FAILED, 3, "550 5.1.1 unknown", "<a@x>")])
    assert [row.email for row in ledger.unsent(ISSUE)] == ["b@example.com"]
    assert [row.email for row in ledger.unsent(ISSUE, retry_failed=True)] == [
        "a@example.com",
        "b@example.com",
    ]
    ledger.record([Outcome(first.id, SENT, 1, "250 ok", "<a@x>")])
    assert next(ledger.unsent(ISSUE)).attempts == 0
    with ledger.engine.connect() as conn:
        attempts, sent_at = conn.execute(
            sa.text("SELECT attempts, sent_at FROM deliveries WHERE email = 'a@example.com'")
        ).one()
    assert attempts == 4 and sent_at is not None
    assert [f.email for f in ledger.failures(ISSUE)] == []


def test_listing_again_adds_only_new_subscribers(ledger: Ledger) -> None:
    assert ledger.enqueue(ISSUE, [Subscriber(email="a@example.com")]) == 1
    assert (
        ledger.enqueue(ISSUE, [Subscriber(email="A@example.com"), Subscriber(email="c@x.org")]) == 1
    )
    assert ledger.enqueue("2026-11-27", [Subscriber(email="a@example.com")]) == 1


def test_the_recorder_commits_before_returning(ledger: Ledger, database_url: str) -> None:
    ledger.enqueue(ISSUE, [Subscriber(email=f"u{n}@example.com") for n in range(10)])
    recorder = Recorder(ledger)
    reader = Ledger(open_engine(database_url))
    for row in list(ledger.unsent(ISSUE)):
        recorder.record(Outcome(row.id, SENT, 1, "250 ok", "<m@x>"))
        with reader.engine.connect() as conn:
            status = conn.scalar(
                sa.text("SELECT status FROM deliveries WHERE id = :id"), {"id": row.id}
            )
        assert status == SENT
    recorder.close()
    reader.engine.dispose()


def test_a_recorder_that_cannot_write_stops_the_send(ledger: Ledger) -> None:
    ledger.enqueue(ISSUE, [Subscriber(email="a@example.com")])
    row = next(ledger.unsent(ISSUE))
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE deliveries"))
    recorder = Recorder(ledger)
    with pytest.raises(DeliveryError, match="state database"):
        recorder.record(Outcome(row.id, SENT, 1, "250 ok", "<m@x>"))
    recorder.close()


def test_a_postgresql_url_names_the_extra_to_install_when_its_driver_is_missing() -> None:
    hide_driver = (  # None in sys.modules makes `import psycopg` fail, as if never installed
        "import sys; sys.modules['psycopg'] = None; sys.argv = ['digest', 'status']; "
        "from digest.cli import main; main()"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    env |= {"DIGEST_STATE_URL": "postgresql://digest@db.example/digest", "COLUMNS": "300"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run(
        [sys.executable, "-c", hide_driver], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == ConfigError.exit_code
    assert result.stderr.splitlines() == [
        "error: DIGEST_STATE_URL: PostgreSQL needs the psycopg driver, which is not installed: "
        "pip install 'digest[postgres]'"
    ]


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    port = free_port()
    with pytest.raises(ConfigError) as caught:
        open_engine(f"postgresql://digest:s3cret@127.0.0.1:{port}/digest")
    message = str(caught.value)
    assert message.startswith("DIGEST_STATE_URL: cannot open postgresql+psycopg://digest:***@")
    assert "\n" not in message and "s3cret" not in message
