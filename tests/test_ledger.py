"""The state database: migrations, WAL, de-duplication, resumable reads, durable outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.config import load_settings
from digest.errors import DeliveryError
from digest.ledger import (
    FAILED,
    PENDING,
    SENT,
    Ledger,
    Outcome,
    Recorder,
    migrate,
    open_engine,
    state_engine,
    state_url,
)
from digest.subscribers import Subscriber

ISSUE = "2026-11-26"


def _ledger(tmp_path: Path) -> Ledger:
    return Ledger(open_engine(f"sqlite:///{tmp_path / 'state.db'}"))


def test_a_blank_database_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    assert migrate(engine) == ["m001_deliveries", "m002_sends"]
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
    with engine.connect() as conn:
        assert list(conn.scalars(sa.text("SELECT name FROM migrations ORDER BY name"))) == [
            "m001_deliveries",
            "m002_sends",
        ]


def test_the_default_database_sits_beside_the_issues_folder_in_wal_mode(tmp_path: Path) -> None:
    settings = load_settings(issues_dir=tmp_path / "news" / "issues")
    assert state_url(settings) == f"sqlite:///{tmp_path / 'news' / 'state.db'}"
    engine = state_engine(settings)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"
    assert (tmp_path / "news" / "state.db").exists()


def test_rows_are_read_in_order_once_even_while_outcomes_are_recorded(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    added = ledger.enqueue(ISSUE, (Subscriber(email=f"u{n}@example.com") for n in range(1234)))
    assert added == 1234
    seen = []
    for row in ledger.unsent(ISSUE):
        seen.append(row.email)
        ledger.record([Outcome(row.id, SENT, 1, "250 ok", f"<{row.id}@x>")])
    assert seen == [f"u{n}@example.com" for n in range(1234)]
    assert ledger.counts(ISSUE) == {PENDING: 0, SENT: 1234, FAILED: 0}
    assert list(ledger.unsent(ISSUE)) == []


def test_failures_are_kept_with_their_reply_and_retried_only_on_request(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
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


def test_listing_again_adds_only_new_subscribers(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    assert ledger.enqueue(ISSUE, [Subscriber(email="a@example.com")]) == 1
    assert (
        ledger.enqueue(ISSUE, [Subscriber(email="A@example.com"), Subscriber(email="c@x.org")]) == 1
    )
    assert ledger.enqueue("2026-11-27", [Subscriber(email="a@example.com")]) == 1


def test_the_recorder_commits_before_returning(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.enqueue(ISSUE, [Subscriber(email=f"u{n}@example.com") for n in range(10)])
    recorder = Recorder(ledger)
    reader = Ledger(open_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    for row in list(ledger.unsent(ISSUE)):
        recorder.record(Outcome(row.id, SENT, 1, "250 ok", "<m@x>"))
        with reader.engine.connect() as conn:
            status = conn.scalar(
                sa.text("SELECT status FROM deliveries WHERE id = :id"), {"id": row.id}
            )
        assert status == SENT
    recorder.close()


def test_a_recorder_that_cannot_write_stops_the_send(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.enqueue(ISSUE, [Subscriber(email="a@example.com")])
    row = next(ledger.unsent(ISSUE))
    with ledger.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE deliveries"))
    recorder = Recorder(ledger)
    with pytest.raises(DeliveryError, match="state database"):
        recorder.record(Outcome(row.id, SENT, 1, "250 ok", "<m@x>"))
    recorder.close()
