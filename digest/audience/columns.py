"""How the subscribers table is written, for the store and the importer alike: the key an address
is found by, the limits of the free-text columns, the list's fields as JSON, the upsert of the
database at hand, and statuses in SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from digest.audience.status import ACTIVE, LEFT, PENDING, Status
from digest.state.schema import subscribers

BATCH = 5000
"""Rows written per transaction: large enough to be fast, small enough for flat memory."""
MAX_NAME = 200
MAX_REASON = 500
MAX_IP = 64


def address_key(email: str) -> str:
    return email.strip().lower()


def rank(status: Status) -> int:
    """How strongly an address left: a complaint outranks a bounce, which outranks an
    unsubscribe; staying is 0."""
    return LEFT.index(status) + 1 if status in LEFT else 0


_FIELDS_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fields_json(fields: dict[str, str]) -> str:
    """The list's own columns as JSON text that compares equal when they are equal."""
    return _FIELDS_JSON.encode(fields)


def upsert(conn: Connection) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    return sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert


def status_sql(status: Status) -> sa.ColumnElement[str]:
    """`status` written into the SQL, not bound: a statement run for every row of a batch binds
    only the row's own values (each bound constant costs a little per row, and rows are many)."""
    return sa.literal_column(f"'{status.value}'", sa.String)


def one_of(column: sa.ColumnElement[Any], statuses: Iterable[Status]) -> sa.ColumnElement[bool]:
    """`column IN (…)` spelled with OR, which executemany can take (it cannot expand IN)."""
    return sa.or_(*(column == status_sql(status) for status in statuses))


def rank_of(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """`rank` in SQL."""
    whens = [(column == status_sql(kind), sa.literal_column(str(rank(kind)))) for kind in LEFT]
    return sa.case(*whens, else_=sa.literal_column("0"))


STAYING = one_of(subscribers.c.status, (ACTIVE, PENDING))
"""Active or pending."""
