"""The issues the site shows: those whose send has begun. An issue built and being edited is not
public until it goes out; once it has, its "view in browser" link must work."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.errors import BuildError
from digest.state.schema import sends
from digest.store import issue_dir, load_issue

REFRESH_SECONDS = 30.0
"""How long the list is kept before the database and issue folders are read again."""


@dataclass(frozen=True, slots=True)
class PublishedIssue:
    date: dt.date
    subject: str
    preheader: str
    language: str
    sent_at: dt.datetime
    """When its send began (UTC)."""


@dataclass
class Published:
    """The published issues, newest first, re-read at most every REFRESH_SECONDS."""

    _issues: list[PublishedIssue] = field(default_factory=list)
    _read_at: float = float("-inf")
    _sends: tuple[object, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issues(self, settings: Settings, engine: Engine) -> list[PublishedIssue]:
        """Read again when a send began since (one small query tells) or REFRESH_SECONDS passed
        (an editor may correct an issue after it went out)."""
        sends_now = _sends_fingerprint(engine)
        with self._lock:
            stale = time.monotonic() - self._read_at > REFRESH_SECONDS
            if stale or sends_now != self._sends:
                self._issues = _read(settings, engine)
                self._read_at = time.monotonic()
                self._sends = sends_now
            return self._issues

    def find(self, settings: Settings, engine: Engine, date: dt.date) -> PublishedIssue | None:
        return next((item for item in self.issues(settings, engine) if item.date == date), None)

    def latest(self, settings: Settings, engine: Engine) -> dt.date | None:
        issues = self.issues(settings, engine)
        return issues[0].date if issues else None


def _sends_fingerprint(engine: Engine) -> tuple[object, ...]:
    query = sa.select(sa.func.count(), sa.func.max(sends.c.started_at)).select_from(sends)
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


def _read(settings: Settings, engine: Engine) -> list[PublishedIssue]:
    with engine.connect() as conn:
        started = dict(conn.execute(sa.select(sends.c.issue, sends.c.started_at)).all())
    found = []
    for key, sent_at in started.items():
        try:
            date = dt.date.fromisoformat(key)
        except ValueError:
            continue
        if not (issue_dir(settings, date) / "email.html").is_file():
            continue
        try:
            issue = load_issue(settings, date)
        except BuildError:
            continue
        found.append(PublishedIssue(date, issue.subject, issue.preheader, issue.language, sent_at))
    return sorted(found, key=lambda item: item.date, reverse=True)
