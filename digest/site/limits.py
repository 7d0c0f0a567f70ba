"""Rate limits kept in the state database, so they hold across every `digest site --workers`
process (and every machine on one PostgreSQL).

A limit counts hits per bucket (e.g. one client address) in fixed windows: the count of the
current window is raised by one atomic upsert that returns the new count, so two processes never
both see the last free hit."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from digest.state.schema import rate_limits

MAX_BUCKET = 200


class RateLimits:
    """The limits of one process. Once the database says a bucket is over its limit, the process
    remembers it until the window ends, so a flood costs no database write per request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._over: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def hit(self, bucket: str, *, limit: int, window: dt.timedelta, now: dt.datetime) -> bool:
        """Count one hit on `bucket`; True while the window's hits are within `limit`."""
        seconds = int(window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        bucket = bucket[:MAX_BUCKET]
        with self._lock:
            if (bucket, start) in self._over:
                return False
        if self._count(bucket, start, seconds) <= limit:
            return True
        with self._lock:
            self._over = {key for key in self._over if key[1] == start}
            self._over.add((bucket, start))
        return False

    def _count(self, bucket: str, start: int, seconds: int) -> int:
        upsert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        insert = upsert(rate_limits).values(bucket=bucket, window_start=start, hits=1)
        statement = insert.on_conflict_do_update(
            index_elements=["bucket", "window_start"],
            set_={"hits": rate_limits.c.hits + 1},
        ).returning(rate_limits.c.hits)
        with self.engine.begin() as conn:
            hits = conn.execute(statement).scalar_one()
            if hits == 1:
                # The first hit of a bucket's window: a good moment to forget finished windows.
                conn.execute(
                    sa.delete(rate_limits).where(rate_limits.c.window_start < start - seconds)
                )
        return hits
