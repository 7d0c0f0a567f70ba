"""Importing a list into the subscribers table (`digest subscribers import`, and every
`digest send` with DIGEST_SUBSCRIBERS): each row with the status it gives, never bringing back an
address that left, in batches of which only the rows that change something are written, so a list
of a million rows takes seconds, not minutes, and flat memory.

An operator who keeps the list elsewhere re-exports the same file day after day; `import_list`
remembers the fingerprint of each file it imported (in the state database, table `list_imports`)
and does not read a file again until its content changes."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from digest.audience.columns import (
    BATCH,
    MAX_IP,
    MAX_NAME,
    MAX_REASON,
    fields_json,
    one_of,
    rank,
    rank_of,
    status_sql,
    upsert,
)
from digest.audience.csv_import import (
    SETTING,
    ListReport,
    ListRow,
    check_structure,
    invalid_rows_file,
    read_subscribers,
)
from digest.audience.status import ACTIVE, LEFT, PENDING, Source, Status
from digest.errors import ConfigError
from digest.state.schema import list_imports, subscribers, utcnow

IMPORT_RULES = "1"
"""Part of every list's fingerprint: raise it when what an import does with a row changes, so the
next import reads every list again."""
READ_CHUNK = 1 << 20


@dataclass
class ImportReport:
    """What an import did. `listed` counts the list's rows (less duplicates) by the status the
    list gives them (active unless it has a status column); `skipped` counts rows left alone
    because the address had left."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    listed: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    skipped: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(LEFT, 0))

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def listed_left(self) -> int:
        return sum(self.listed[status] for status in LEFT)

    @property
    def unmailed(self) -> int:
        """Rows nobody mails: the address left, by the database or by the list."""
        return self.skipped_total + self.listed_left

    @property
    def listed_line(self) -> str:
        """The list's own word on who gets no mail, when it has a status column."""
        parts = []
        if self.listed_left:
            left = [f"{self.listed[kind]} {kind.value}" for kind in LEFT if self.listed[kind]]
            parts.append(f"{self.listed_left} as having left ({', '.join(left)})")
        if self.listed[PENDING]:
            parts.append(f"{self.listed[PENDING]} as pending (not mailed until they confirm)")
        return f"the list gives {' and '.join(parts)}" if parts else ""

    @property
    def skipped_line(self) -> str:
        if not self.skipped_total:
            return ""
        parts = [f"{count} {status.value}" for status, count in self.skipped.items() if count]
        return (
            f"{self.skipped_total} skipped because the address left ({', '.join(parts)}); "
            "only the person can sign up again"
        )


def _import_rank(status: Status) -> int:
    """Which of two rows for one address an import keeps: leaving outranks staying, as in
    `set_status`, and being active outranks waiting for a confirmation."""
    return rank(status) + 1 if status is not PENDING else 0


def _imported(row: ListRow, source: Source, now: dt.datetime) -> dict[str, Any]:
    """The columns of `row` as a new subscriber; a list that gives no source, dates or reason
    gets the import's own."""
    consent = row.consent
    left = row.status in LEFT
    reason = row.reason or (f"imported as {row.status.value}" if left else "")
    return {
        "email_key": row.key,
        "email": row.email,
        "name": row.name[:MAX_NAME],
        "fields": fields_json(row.fields),
        "status": row.status.value,
        "source": (row.source if row.source is not Source.IMPORT else source).value,
        "reason": reason[:MAX_REASON],
        "created_at": row.created_at or now,
        "updated_at": now,
        "confirmed_at": row.confirmed_at,
        "left_at": (row.left_at or now) if left else None,
        "consent_at": consent.at if consent else None,
        "consent_ip": consent.ip[:MAX_IP] if consent else "",
        "consent_user_agent": consent.user_agent[:MAX_REASON] if consent else "",
        "consent_url": consent.url[:MAX_REASON] if consent else "",
        "consent_text": consent.text if consent else "",
    }


def _changes(before: tuple[str, str, str] | None, value: dict[str, Any]) -> bool:
    """Whether writing the row `value` changes the table's row (status, name, fields) `before`:
    a new address; an active row for an address that is pending, or active under another name or
    fields; a pending row for one pending under another name or fields; a row that left for one
    that stayed or left for a weaker reason. The same rule as `_import_statement`'s WHERE, which
    keeps to it in the database should another process change the row meanwhile."""
    if before is None:
        return True
    status, name, fields = before
    new = value["status"]
    edited = (name, fields) != (value["name"], value["fields"])
    if new == ACTIVE:
        return status == PENDING or (status == ACTIVE and edited)
    if new == PENDING:
        return status == PENDING and edited
    return rank(Status(new)) > rank(Status(status))


def _import_statement(conn: Connection) -> Any:
    """One INSERT … ON CONFLICT for the rows of a batch of any status. An active row brings in an
    address that is pending or active with its name and fields; a pending row only edits one that
    is pending; a row that left stops mail to an active or pending address, and moves one that
    left to a stronger reason. Nothing ever brings back an address that left (`_changes`)."""
    insert = upsert(conn)(subscribers)
    new, old = insert.excluded, subscribers.c
    edited = sa.or_(old.name != new.name, old.fields != new.fields)
    activated = sa.or_(old.status != status_sql(ACTIVE), edited)
    new_left = one_of(new.status, LEFT)
    staying = one_of(old.status, (ACTIVE, PENDING))
    return insert.on_conflict_do_update(
        index_elements=["email_key"],
        set_={
            "name": new.name,
            "fields": new.fields,
            "status": new.status,
            "reason": sa.case((new_left, new.reason), else_=old.reason),
            "left_at": sa.case((sa.and_(new_left, staying), new.left_at), else_=old.left_at),
            "updated_at": new.updated_at,
        },
        where=sa.or_(
            sa.and_(new.status == status_sql(ACTIVE), staying, activated),
            sa.and_(new.status == status_sql(PENDING), old.status == status_sql(PENDING), edited),
            sa.and_(new_left, rank_of(old.status) < rank_of(new.status)),
        ),
    )


def import_rows(
    engine: Engine, rows: Iterable[ListRow], *, source: Source = Source.IMPORT
) -> ImportReport:
    """Bring the list's rows in with the status each gives (active unless it says otherwise),
    never bringing back an address that left: new addresses are added; active and pending
    ones take the row's name and fields, and stop getting mail when the row says they left;
    an address that left is skipped and counted, or moved to a stronger reason (a complaint
    outranks a bounce, which outranks an unsubscribe). A pending row never outranks an active
    one. Streams in batches (`_import_batch`), so memory stays flat at any list size and the
    table keeps the list's order."""
    report = ImportReport()
    rows = iter(rows)
    while batch := list(islice(rows, BATCH)):
        _import_batch(engine, batch, source, report)
    return report


def _import_batch(
    engine: Engine, batch: list[ListRow], source: Source, report: ImportReport
) -> None:
    now = utcnow()
    unique: dict[str, ListRow] = {}
    for row in batch:
        kept = unique.get(row.key)
        if kept is None or _import_rank(row.status) > _import_rank(kept.status):
            unique[row.key] = row
    report.duplicates += len(batch) - len(unique)
    values = {key: _imported(row, source, now) for key, row in unique.items()}
    old = subscribers.c
    with engine.begin() as conn:
        known = {
            found.email_key: (found.status, found.name, found.fields)
            for found in conn.execute(
                sa.select(old.email_key, old.status, old.name, old.fields).where(
                    old.email_key.in_(list(unique))
                )
            )
        }
        # Only the rows that change something are written: a daily re-export differs from the
        # table in a few. They go as one executemany, which SQLite runs as one prepared
        # statement and psycopg pipelines (a multi-row VALUES is no faster on SQLite, and
        # psycopg parses a statement that long anew in Python every time).
        writes = {key: value for key, value in values.items() if _changes(known.get(key), value)}
        if writes:
            conn.execute(_import_statement(conn), list(writes.values()))
    for key, row in unique.items():
        report.listed[row.status] += 1
        before = known.get(key)
        if before is None:
            report.added += 1
        elif key in writes:
            report.updated += 1
        elif before[0] in LEFT and row.status not in LEFT:
            report.skipped[Status(before[0])] += 1
        else:
            report.unchanged += 1


# --- a list file, imported once per content ---


@dataclass(frozen=True)
class ListImport:
    """What `import_list` did: imported the file (`imported`), or found it unchanged since the
    import at `unchanged_since` and left it unread."""

    imported: ImportReport
    unchanged_since: dt.datetime | None = None


def fingerprint(path: Path, suppressed: frozenset[str], label: str = SETTING) -> str:
    """The SHA-256 of the list at `path` as an import would take it: its bytes, the suppressed
    addresses that keep rows out, and the import's rules."""
    digest = hashlib.sha256(f"digest list import, rules {IMPORT_RULES}\n".encode())
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read {path} ({exc.strerror})") from None
    if suppressed:
        digest.update(b"\0suppressed\n" + "\n".join(sorted(suppressed)).encode())
    return digest.hexdigest()


def _remembered(engine: Engine, key: str, content: str, report: ListReport) -> dt.datetime | None:
    """When the list file `key` was last imported, if its content was `content` then; what that
    import found goes into `report`, to be reported again."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(list_imports).where(list_imports.c.path == key)).first()
    if row is None or row.fingerprint != content:
        return None
    report.rows = row.rows_read
    report.invalid_count = row.invalid_rows
    report.suppressed = row.suppressed_rows
    report.valid = row.rows_read - row.invalid_rows - row.suppressed_rows
    report.left = row.unmailed_rows
    report.pending = row.pending_rows
    saved = Path(row.invalid_file) if row.invalid_file else None
    report.saved_to = saved if saved is not None and saved.exists() else None
    return row.imported_at


def _remember(engine: Engine, key: str, content: str, report: ListReport) -> None:
    values = {
        "fingerprint": content,
        "imported_at": utcnow(),
        "rows_read": report.rows,
        "invalid_rows": report.invalid_count,
        "suppressed_rows": report.suppressed,
        "unmailed_rows": report.left,
        "pending_rows": report.pending,
        "invalid_file": str(report.saved_to or ""),
    }
    with engine.begin() as conn:
        insert = upsert(conn)(list_imports).values(path=key, **values)
        conn.execute(insert.on_conflict_do_update(index_elements=["path"], set_=values))


def import_list(
    engine: Engine,
    path: Path,
    *,
    report: ListReport,
    suppressed: frozenset[str] = frozenset(),
    label: str = SETTING,
    invalid_rows: Path | None = None,
    force: bool = False,
) -> ListImport:
    """Import the CSV list at `path` (less `suppressed`), unless it is the same as at its last
    import (`force` imports it anyway). A file broken in structure stops everything before a row
    is imported (ConfigError); invalid rows are counted in `report` and, with `invalid_rows`,
    written to that file. A list that changed while it was read is imported, not remembered."""
    key = str(path.resolve())
    content = fingerprint(path, suppressed, label)
    if not force and (since := _remembered(engine, key, content, report)) is not None:
        return ListImport(ImportReport(), unchanged_since=since)
    check_structure(path, label)
    rows = read_subscribers(path, suppressed=suppressed, report=report, label=label)
    if invalid_rows is None:
        imported = import_rows(engine, rows)
    else:
        with invalid_rows_file(report, invalid_rows):
            imported = import_rows(engine, rows)
    report.left, report.pending = imported.unmailed, imported.listed[PENDING]
    if fingerprint(path, suppressed, label) == content:
        _remember(engine, key, content, report)
    return ListImport(imported)
