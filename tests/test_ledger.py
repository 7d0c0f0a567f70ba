"""The ledger on SQLite and PostgreSQL: migrations, de-duplication, resumable reads, durable
outcomes. Each test runs once per backend (the `database_url` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.config import load_settings
from digest.errors import ConfigError, DeliveryError
from digest.models import Subscriber
from digest.state.claims import Claims, Lease
from digest.state.engine import connect, open_engine, state_engine, state_url
from digest.state.ledger import Ledger, Outcome, Recorder
from digest.state.migrations import MIGRATIONS, migrate
from digest.state.schema import FAILED, PENDING, SENT, metadata
from digest.state.workers import register
from tests.support.smtp_server import free_port

ISSUE = "2026-11-26"


def test_a_blank_database_is_migrated_to_the_current_schema(database_url: str) -> None:
    engine = connect(database_url)
    names = [migration.__name__ for migration in MIGRATIONS]
    assert names[:3] == ["m001_deliveries", "m002_sends", "m003_schedule_runs"]
    assert migrate(engine) == names
    assert migrate(engine) == []
    inspector = sa.inspect(engine)
    built = {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }
    described = {table.name: set(table.columns.keys()) for table in metadata.sorted_tables}
    assert built == described  # the migrations build exactly what digest/state/schema.py reads
    assert {"claimed_by", "lease_until"} <= built["deliveries"]
    assert {"sends", "schedule_runs", "send_workers"} <= set(built)
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


def _claims(ledger: Ledger, batch: int = 500) -> Claims:
    return Claims(
        ledger.engine, ISSUE, register(ledger.engine, "send"), batch=batch, lease=Lease(300, 1)
    )


def test_rows_are_claimed_in_order_once_even_while_outcomes_are_recorded(ledger: Ledger) -> None:
    added = ledger.enqueue(ISSUE, (Subscriber(email=f"u{n}@example.com") for n in range(1234)))
    assert added == 1234
    claims = _claims(ledger)
    seen = []
    while rows := claims.claim():
        for row in rows:
            seen.append(row.email)
            outcome = Outcome(row.id, SENT, 1, "250 ok", f"<{row.id}@x>")
            assert ledger.record([outcome], claims.worker) == 1
    assert seen == [f"u{n}@example.com" for n in range(1234)]
    assert claims.batches == 3
    assert ledger.counts(ISSUE) == {PENDING: 0, SENT: 1234, FAILED: 0}
    assert list(ledger.unsent(ISSUE)) == []


def test_failures_are_kept_with_their_reply_and_retried_only_on_request(ledger: Ledger) -> None:
    ledger.enqueue(ISSUE, [Subscriber(email="a@example.com"), Subscriber(email="b@example.com")])
    claims = _claims(ledger)
    first, _ = claims.claim()
    failure = Outcome(first.id, FAILED, 3, "550 5.1.1 unknown", "<a@x>")
    assert ledger.record([failure], claims.worker) == 1
    assert claims.release() == 1
    assert [row.email for row in claims.claim()] == ["b@example.com"]
    claims.release()
    assert ledger.reopen_failed(ISSUE) == 1
    assert [row.email for row in claims.claim()] == ["a@example.com", "b@example.com"]
    ledger.record([Outcome(first.id, SENT, 1, "250 ok", "<a@x>")], claims.worker)
    claims.release()
    assert next(ledger.unsent(ISSUE)).attempts == 0
    with ledger.engine.connect() as conn:
        attempts, sent_at, reply = conn.execute(
            sa.text(
                "SELECT attempts, sent_at, last_reply FROM deliveries WHERE email = 'a@example.com'"
            )
        ).one()
    assert attempts == 4 and sent_at is not None and reply == "250 ok"
    assert [f.email for f in ledger.failures(ISSUE)] == []


def test_listing_again_adds_only_new_subscribers(ledger: Ledger) -> None:
    assert ledger.enqueue(ISSUE, [Subscriber(email="a@example.com")]) == 1
    assert (
        ledger.enqueue(ISSUE, [Subscriber(email="A@example.com"), Subscriber(email="c@x.org")]) == 1
    )
    assert ledger.enqueue("2026-11-27", [Subscriber(email="a@example.com")]) == 1


def test_the_recorder_commits_before_returning(ledger: Ledger, database_url: str) -> None:
    ledger.enqueue(ISSUE, [Subscriber(email=f"u{n}@example.com") for n in range(10)])
    claims = _claims(ledger)
    recorder = Recorder(ledger, claims.worker)
    reader = Ledger(open_engine(database_url))
    for row in claims.claim():
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
    claims = _claims(ledger)
    [row] = claims.claim()
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE deliveries"))
    recorder = Recorder(ledger, claims.worker)
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
