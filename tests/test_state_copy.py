"""`digest state copy --to URL`: an SQLite state database moved to PostgreSQL, rows, ids and all,
and a send that goes on there; a target that already holds rows, or a copy while a sender is at
work, is refused, untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from digest.audience.store import SubscriberStore
from digest.cli import app
from digest.errors import ConfigError
from digest.models import Subscriber
from digest.state.claims import Claims, Lease
from digest.state.engine import open_engine
from digest.state.ledger import Ledger, Outcome
from digest.state.schema import PENDING, SENT, metadata
from digest.state.workers import register, unregister
from tests.support.postgres import PostgresServer

ISSUE = "2026-11-26"


def _rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def test_an_sqlite_state_moves_to_postgresql_and_the_send_goes_on_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> None:
    source_url = f"sqlite:///{tmp_path / 'state.db'}"
    source = open_engine(source_url)
    ledger = Ledger(source)
    for n in range(30):
        SubscriberStore(source).add(f"reader{n}@example.com", name=f"Reader {n}")
    ledger.begin_send(ISSUE, "Harbour talks resume")
    ledger.enqueue_active(ISSUE)
    claims = Claims(source, ISSUE, register(source, "send"), batch=10, lease=Lease(300, 1))
    done = [Outcome(row.id, SENT, 1, "250 ok", "<m@x>") for row in claims.claim()]
    ledger.record(done, claims.worker)
    claims.release()
    unregister(source, claims.worker)
    before = _rows(source)
    source.dispose()

    target_url = postgres_server.create_database()
    monkeypatch.setenv("DIGEST_STATE_URL", source_url)
    result = CliRunner().invoke(app, ["state", "copy", "--to", target_url])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Copied " in result.output and "deliveries 30" in result.output

    target = open_engine(target_url)
    assert _rows(target) == before
    moved = Ledger(target)
    assert moved.counts(ISSUE) == {PENDING: 20, SENT: 10, "failed": 0}
    assert moved.send_state(ISSUE) is not None
    SubscriberStore(target).add("newcomer@example.com")  # ids go on past the copied ones
    assert moved.enqueue("2026-11-27", [Subscriber(email="late@example.com")]) == 1
    rest = Claims(target, ISSUE, register(target, "send"), batch=100, lease=Lease(300, 1))
    assert len(rest.claim()) == 20
    target.dispose()

    again = CliRunner().invoke(app, ["state", "copy", "--to", target_url])
    assert isinstance(again.exception, ConfigError)
    assert "already holds rows" in str(again.exception)


def test_a_copy_while_a_sender_is_at_work_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_url = f"sqlite:///{tmp_path / 'state.db'}"
    source = open_engine(source_url)
    SubscriberStore(source).add("reader@example.com")
    register(source, "send")
    source.dispose()
    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("DIGEST_STATE_URL", source_url)
    result = CliRunner().invoke(app, ["state", "copy", "--to", target_url])
    assert isinstance(result.exception, ConfigError)
    assert "1 sender(s) are at work" in str(result.exception)
    assert not (tmp_path / "copy.db").exists()
