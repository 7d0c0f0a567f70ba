"""The `schedule_runs` table: one row per run (built, sent, skipped, failed, missed,
interrupted), which `digest status` and the resumed run read back."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.schedule.times import aware, naive_utc
from digest.state.schema import schedule_runs as runs

Kind = Literal["built", "sent", "skipped", "failed", "missed", "interrupted"]


class RunOutcome(BaseModel):
    """What one run did; `line` is the one log line per run."""

    model_config = ConfigDict(extra="forbid")

    issue: str
    kind: Kind
    detail: str
    sent: int = 0
    failed: int = 0

    @property
    def line(self) -> str:
        return f"Issue {self.issue}: {self.kind}: {self.detail}"


class RunRecord(BaseModel):
    """A row of `schedule_runs`, with times made aware (UTC)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    scheduled_for: dt.datetime | None
    issue: str
    mode: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    detail: str


def start_run(
    engine: Engine, settings: Settings, date: dt.date, scheduled_for: dt.datetime | None
) -> int:
    values = {
        "scheduled_for": naive_utc(scheduled_for) if scheduled_for else None,
        "issue": date.isoformat(),
        "mode": settings.schedule_mode,
        "started_at": naive_utc(dt.datetime.now(dt.UTC)),
        "detail": "",
    }
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(runs).values(**values)).inserted_primary_key[0])


def finish_run(engine: Engine, run_id: int, outcome: RunOutcome) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(runs)
            .where(runs.c.id == run_id)
            .values(
                finished_at=naive_utc(dt.datetime.now(dt.UTC)),
                outcome=outcome.kind,
                detail=outcome.detail[:2000],
            )
        )


def record_missed(
    engine: Engine, settings: Settings, scheduled_for: dt.datetime, outcome: RunOutcome
) -> None:
    """A run that did not happen (missed), recorded so `digest status` shows it."""
    date = scheduled_for.astimezone(settings.zone).date()
    finish_run(engine, start_run(engine, settings, date, scheduled_for), outcome)


def completed(engine: Engine, scheduled_for: dt.datetime) -> bool:
    """Whether the run due at `scheduled_for` has already ended with its issue built or sent."""
    query = sa.select(runs.c.id).where(
        runs.c.scheduled_for == naive_utc(scheduled_for),
        runs.c.outcome.in_(["built", "sent", "skipped"]),
    )
    with engine.connect() as conn:
        return conn.execute(query.limit(1)).first() is not None


def _torecord_missed(row: sa.Row[Any]) -> RunRecord:
    values = dict(row._mapping)
    for name in ("scheduled_for", "started_at", "finished_at"):
        values[name] = aware(values[name])
    return RunRecord(**values)


def recent_runs(engine: Engine, limit: int = 20) -> list[RunRecord]:
    """The latest runs, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
    return [_torecord_missed(row) for row in rows]
