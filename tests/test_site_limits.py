"""The site's rate limits in the state database, on SQLite and PostgreSQL: counted across
processes (two RateLimits on one database stand for two `--workers`), per window."""

from __future__ import annotations

import datetime as dt

from digest.site.limits import RateLimits
from digest.state.engine import open_engine

HOUR = dt.timedelta(hours=1)
NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def test_a_limit_holds_across_processes_and_resets_with_the_window(database_url: str) -> None:
    first, second = open_engine(database_url), open_engine(database_url)
    try:
        one, two = RateLimits(first), RateLimits(second)
        answers = [
            (one if n % 2 else two).hit("signup:203.0.113.9", limit=3, window=HOUR, now=NOON)
            for n in range(6)
        ]
        assert answers == [True, True, True, False, False, False]
        assert one.hit("signup:198.51.100.1", limit=3, window=HOUR, now=NOON)
        later = NOON + HOUR
        assert two.hit("signup:203.0.113.9", limit=3, window=HOUR, now=later)
        assert one.hit("signup:203.0.113.9", limit=3, window=HOUR, now=later)
    finally:
        first.dispose()
        second.dispose()
