"""`import_list`, on SQLite and PostgreSQL: a list file is read again only when its content (or
the suppressions that keep rows out of it) changed, and what its last import found is reported
again."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

import sqlalchemy as sa

from digest.audience.csv_import import ListReport, ListRow
from digest.audience.importer import _changes, _import_statement, _imported, import_list
from digest.audience.status import Source, Status
from digest.audience.store import SubscriberStore
from digest.state.schema import subscribers


def rename(engine: sa.Engine, email: str, name: str) -> None:
    """Change a row behind the import's back, to see whether an import touches it."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(subscribers).where(subscribers.c.email_key == email).values(name=name)
        )


def name_of(engine: sa.Engine, email: str) -> str:
    record = SubscriberStore(engine).get(email)
    assert record is not None
    return record.name


def test_an_unchanged_list_is_not_read_again(engine: sa.Engine, tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("email,name\nada@example.com,Ada\nbad,X\nbob@example.com,Bob\n")
    invalid = tmp_path / "invalid.csv"
    first = import_list(engine, listing, report=ListReport(), invalid_rows=invalid)
    assert first.unchanged_since is None and first.imported.added == 2
    assert invalid.exists()

    rename(engine, "ada@example.com", "Edited")
    os.utime(listing, (1, 1))  # touched, not changed
    report = ListReport()
    again = import_list(engine, listing, report=report, invalid_rows=tmp_path / "other.csv")
    assert again.unchanged_since is not None and again.imported.added == 0
    assert name_of(engine, "ada@example.com") == "Edited"
    assert (report.rows, report.valid, report.invalid_count) == (3, 2, 1)
    assert report.saved_to == invalid and not (tmp_path / "other.csv").exists()
    assert report.lines() == [f"1 invalid rows (all 1 are listed in {invalid})"]

    forced = import_list(engine, listing, report=ListReport(), force=True)
    assert forced.unchanged_since is None and forced.imported.updated == 1
    assert name_of(engine, "ada@example.com") == "Ada"

    rename(engine, "ada@example.com", "Edited")
    suppressed = import_list(
        engine, listing, report=ListReport(), suppressed=frozenset({"bob@example.com"})
    )
    assert suppressed.unchanged_since is None
    assert name_of(engine, "ada@example.com") == "Ada"

    rename(engine, "ada@example.com", "Edited")
    with listing.open("a") as handle:
        handle.write("cy@example.com,Cy\n")
    changed = import_list(
        engine, listing, report=ListReport(), suppressed=frozenset({"bob@example.com"})
    )
    assert changed.unchanged_since is None and changed.imported.added == 1
    assert name_of(engine, "ada@example.com") == "Ada"


def test_the_same_content_at_another_path_is_its_own_list(
    engine: sa.Engine, tmp_path: Path
) -> None:
    text = "email\nada@example.com\n"
    (tmp_path / "a.csv").write_text(text)
    (tmp_path / "b.csv").write_text(text)
    assert import_list(engine, tmp_path / "a.csv", report=ListReport()).unchanged_since is None
    assert import_list(engine, tmp_path / "b.csv", report=ListReport()).unchanged_since is None
    relative = Path(os.path.relpath(tmp_path / "a.csv"))
    assert import_list(engine, relative, report=ListReport()).unchanged_since is not None


def test_the_rows_an_import_writes_are_those_its_statement_changes(engine: sa.Engine) -> None:
    """`_changes` (which rows are written and counted) and the statement's WHERE (which keeps to
    the rule in the database) agree on every status a row and the table may have."""
    now = dt.datetime(2026, 11, 26, 6, 0)
    cases = []
    for old, new, edited in itertools.product(Status, Status, (False, True)):
        email = f"{old.value}.{new.value}.{int(edited)}@example.com"
        value = _imported(
            ListRow(email=email, name="New" if edited else "Old", status=new), Source.IMPORT, now
        )
        cases.append((email, old, value))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(subscribers),
            [
                _imported(ListRow(email=email, name="Old", status=old), Source.IMPORT, now)
                | {"updated_at": now - dt.timedelta(days=1)}
                for email, old, _ in cases
            ],
        )
        statement = _import_statement(conn)
        for _, _, value in cases:
            conn.execute(statement, [value])
        written = set(
            conn.scalars(sa.select(subscribers.c.email_key).where(subscribers.c.updated_at == now))
        )
    for email, old, value in cases:
        before = (old.value, "Old", value["fields"])
        assert _changes(before, value) == (email in written), (email, old, value["status"])
