"""The subscriber list: streamed, validated, de-duplicated by the ledger, suppressions honoured."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from digest.audience.csv_import import (
    ListReport,
    check_structure,
    invalid_rows_file,
    load_suppressions,
    read_subscribers,
)
from digest.audience.status import ACTIVE, PENDING, UNSUBSCRIBED, Consent, Source
from digest.errors import ConfigError
from digest.state.engine import open_engine
from digest.state.ledger import Ledger
from tests.conftest import FIXTURES

SEND = FIXTURES / "send"


def test_valid_rows_are_normalised_and_bad_rows_reported_with_line_numbers() -> None:
    report = ListReport()
    rows = list(read_subscribers(SEND / "subscribers.csv", suppressed=frozenset(), report=report))
    assert [row.email for row in rows] == [
        "ada@example.com",
        "ADA@example.com",
        "grace@example.org",
        "kurt@xn--bcher-kva.example",
        "eve@example.net",
        "unsubscribed@example.com",
        "bob@example.com",
        "bounced@example.com",
    ]
    assert [(bad.line, bad.value) for bad in report.invalid] == [
        (3, "not-an-address"),
        (6, ""),
        (7, "zoë@example.com"),
        (14, "linus@example..com"),
    ]
    assert all(bad.reason for bad in report.invalid)
    assert report.invalid_count == 4 and report.valid == 8 and report.rows == 12
    grace = rows[2]
    assert grace.name == "Hopper, Grace" and grace.fields == {"city": "New York"}
    assert grace.line == 5
    assert rows[4].line == 9 and rows[4].name == "Eve, Bcc: victim@example.com"


def test_suppressed_addresses_are_skipped_whatever_their_case() -> None:
    suppressed = load_suppressions(SEND / "suppressions.txt")
    assert suppressed == {"unsubscribed@example.com", "bounced@example.com"}
    report = ListReport()
    rows = list(read_subscribers(SEND / "subscribers.csv", suppressed=suppressed, report=report))
    assert {row.key for row in rows}.isdisjoint(suppressed)
    assert report.suppressed == 2


def test_duplicates_differing_in_case_are_listed_once(database_url: str) -> None:
    ledger = Ledger(open_engine(database_url))
    rows = read_subscribers(SEND / "subscribers.csv", suppressed=frozenset(), report=ListReport())
    assert ledger.enqueue("2026-11-26", rows) == 7
    listed = [row.email for row in ledger.unsent("2026-11-26")]
    assert listed.count("ada@example.com") == 1 and "ADA@example.com" not in listed
    assert ledger.unsent("2026-11-26").__next__().name == "Ada Lovelace"
    ledger.engine.dispose()


def test_a_list_without_an_email_column_or_file_is_a_config_error(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("address,name\nada@example.com,Ada\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no 'email' column"):
        list(read_subscribers(csv_file, suppressed=frozenset(), report=ListReport()))
    with pytest.raises(ConfigError, match="DIGEST_SUBSCRIBERS: cannot read"):
        list(read_subscribers(tmp_path / "nope.csv", suppressed=frozenset(), report=ListReport()))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        list(read_subscribers(empty, suppressed=frozenset(), report=ListReport()))


def test_rows_stream_without_reading_the_whole_file(tmp_path: Path) -> None:
    csv_file = tmp_path / "big.csv"
    with csv_file.open("w", encoding="utf-8") as handle:
        handle.write("email\n")
        handle.writelines(f"user{n}@example.com\n" for n in range(50_000))
    rows = read_subscribers(csv_file, suppressed=frozenset(), report=ListReport())
    assert next(rows).email == "user0@example.com"
    rows.close()


def test_undecodable_bytes_make_a_row_invalid_not_the_file(tmp_path: Path) -> None:
    csv_file = tmp_path / "latin1.csv"
    csv_file.write_bytes(b"email,name\nj\xe9r\xf4me@example.com,J\nok@example.com,Ok\n")
    report = ListReport()
    rows = list(read_subscribers(csv_file, suppressed=frozenset(), report=report))
    assert [row.email for row in rows] == ["ok@example.com"]
    assert [bad.line for bad in report.invalid] == [2]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        # One stray quote: the reader would swallow every later row into one field.
        (
            'email,name\nada@example.com,Ada\n"grace@example.org,Grace\nbob@example.com,Bob\n',
            3,
            "never closed",
        ),
        (
            'email,name\nada@example.com,"Ada\nBcc: x@example.com"\nbob@example.com,Bob\n',
            2,
            "runs on to line 3",
        ),
        ('email,name\nada@example.com,"Ada" Lovelace\n', 2, "text follows a closing"),
        ("email,name\nada@example.com,Ada\nbob@example.com,Smith, Bob\n", 3, "3 columns"),
    ],
)
def test_a_structurally_broken_file_stops_reading_and_names_the_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(text, encoding="utf-8")
    for read in (
        lambda: list(read_subscribers(csv_file, suppressed=frozenset(), report=ListReport())),
        lambda: check_structure(csv_file),
    ):
        with pytest.raises(ConfigError, match=rf"list\.csv: line {line}: .*{problem}") as caught:
            read()
        assert "\n" not in str(caught.value)


def test_trailing_empty_cells_and_short_rows_are_not_broken(tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name\nada@example.com,Ada,,\nbob@example.com\n", encoding="utf-8")
    check_structure(csv_file)
    rows = read_subscribers(csv_file, suppressed=frozenset(), report=ListReport())
    assert [(row.email, row.name) for row in rows] == [
        ("ada@example.com", "Ada"),
        ("bob@example.com", ""),
    ]


def test_every_invalid_row_goes_to_the_report_file_and_the_first_twenty_are_shown(
    tmp_path: Path,
) -> None:
    csv_file = tmp_path / "list.csv"
    lines = ["email", "ok@example.com"] + [f"=bad{n}" for n in range(25)]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "issues" / "2026-11-26.invalid-subscribers.csv"
    report = ListReport()
    with invalid_rows_file(report, target):
        rows = list(read_subscribers(csv_file, suppressed=frozenset(), report=report))
    assert [row.email for row in rows] == ["ok@example.com"]
    shown = report.lines()
    assert len(shown) == 21
    assert shown[0].startswith("line 3: '=bad0': ")
    assert shown[-1] == f"… and 5 more invalid rows (all 25 are listed in {target})"
    with target.open(encoding="utf-8", newline="") as handle:
        saved = list(csv.reader(handle))
    assert saved[0] == ["line", "value", "reason"]
    assert len(saved) == 26 and saved[25][:2] == ["27", "'=bad24"]
    assert list(target.parent.iterdir()) == [target]

    csv_file.write_text("email\nok@example.com\n", encoding="utf-8")
    clean = ListReport()
    with invalid_rows_file(clean, target):
        list(read_subscribers(csv_file, suppressed=frozenset(), report=clean))
    assert clean.lines() == [] and not target.exists()


def test_the_columns_of_an_export_are_read_as_digests_own(tmp_path: Path) -> None:
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(
        "email,name,status,source,created_at,confirmed_at,left_at,reason,consent_at,consent_ip,"
        "consent_user_agent,consent_url,consent_text,city\n"
        "a@example.com,'=Ada,active,cli,2025-01-02 03:04:05,,,,,,,,,'-London\n"
        "p@example.com,,PENDING,form,2025-01-02 03:04:05,,,,2025-01-02T03:04:05+01:00,"
        "203.0.113.9,Mozilla/5.0,https://news.example/subscribe,Yes please.,\n"
        "u@example.com,,unsubscribed,import,2025-01-02 03:04:05,,2025-06-01 00:00:00,"
        "asked by phone,,,,,,Rome\n"
        "x@example.com,,gone,,,,,,,,,,,\n"
        "y@example.com,,active,newsletter,,,,,,,,,,\n"
        "z@example.com,,bounced,,yesterday,,,,,,,,,\n"
        "w@example.com,,active,,,,,,,203.0.113.9,,,,\n"
        "b@example.com,,,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    report = ListReport()
    rows = list(read_subscribers(csv_file, suppressed=frozenset(), report=report))
    ada, pending, left, blank = rows
    assert ada.name == "=Ada" and ada.fields == {"city": "-London"}
    assert ada.status == ACTIVE and ada.source == Source.CLI
    assert ada.created_at == dt.datetime(2025, 1, 2, 3, 4, 5) and ada.confirmed_at is None
    assert pending.status == PENDING and pending.fields == {"city": ""}
    assert pending.consent == Consent(
        at=dt.datetime(2025, 1, 2, 2, 4, 5),
        ip="203.0.113.9",
        user_agent="Mozilla/5.0",
        url="https://news.example/subscribe",
        text="Yes please.",
    )
    assert left.status == UNSUBSCRIBED and left.reason == "asked by phone"
    assert left.left_at == dt.datetime(2025, 6, 1)
    assert blank.status == ACTIVE and blank.source == Source.IMPORT
    assert [(bad.line, bad.value, bad.reason) for bad in report.invalid] == [
        (
            5,
            "x@example.com",
            "status 'gone' is not one of pending, active, unsubscribed, bounced, complained",
        ),
        (6, "y@example.com", "source 'newsletter' is not one of import, form, cli"),
        (
            7,
            "z@example.com",
            "created_at 'yesterday' is not a date and time (such as 2026-11-26 06:00:00, in UTC)",
        ),
        (8, "w@example.com", "consent_ip is given without consent_at (when the consent was given)"),
    ]
