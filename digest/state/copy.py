"""`digest state copy --to URL`: the whole state database into another one, e.g. from SQLite
to PostgreSQL when senders move to several machines.

The target is migrated first (so it has today's tables on its own backend's types) and must hold
no rows yet; every table of `digest.state.schema` and the scheduler's job store is then copied
in batches, in one transaction, so a failed copy leaves the target as empty as it was. Integer
keys are copied as they are, and PostgreSQL's sequences are moved past them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digest.errors import ConfigError
from digest.state.schema import metadata, migrations

BATCH = 5000
JOBS_TABLE = "apscheduler_jobs"
"""APScheduler's job store (digest/schedule/); created by APScheduler, not by a migration."""


def _tables(source: Connection) -> list[sa.Table]:
    tables = [table for table in metadata.sorted_tables if table is not migrations]
    if sa.inspect(source).has_table(JOBS_TABLE):
        tables.append(sa.Table(JOBS_TABLE, sa.MetaData(), autoload_with=source))
    return tables


def copy_state(
    source: Engine, target: Engine, told: Callable[[str, int], None] = lambda _t, _n: None
) -> dict[str, int]:
    """Copy every row of `source` into the empty, migrated `target`; return rows per table."""
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        tables = _tables(reading)
        for table in tables:
            if not sa.inspect(writing).has_table(table.name):
                table.create(writing)
            if writing.scalar(sa.select(sa.func.count()).select_from(table)):
                raise ConfigError(
                    f"digest state copy: the target already holds rows in {table.name}; "
                    "copy into a new, empty database"
                )
        for table in tables:
            rows = reading.execute(sa.select(table)).mappings()
            count = 0
            while batch := [dict(row) for row in islice(rows, BATCH)]:
                writing.execute(sa.insert(table), batch)
                count += len(batch)
            copied[table.name] = count
            told(table.name, count)
        if writing.dialect.name == "postgresql":
            _move_sequences(writing, tables)
    return copied


def _move_sequences(conn: Connection, tables: list[sa.Table]) -> None:
    """Rows kept their ids, so each serial column's sequence must continue after the largest."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = conn.scalar(
                sa.select(sa.func.pg_get_serial_sequence(table.name, column.name))
            )
            if sequence:
                largest = conn.scalar(sa.select(sa.func.max(column)))
                conn.execute(sa.select(sa.func.setval(sequence, largest or 1, largest is not None)))
