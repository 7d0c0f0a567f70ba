"""The subscriber list (a CSV file: DIGEST_SUBSCRIBERS, `digest subscribers import`) and the
suppression list, read as streams.

A list can hold a million rows, so nothing here loads it whole: rows are validated and yielded
one at a time. De-duplication needs memory proportional to the list, so it happens where the rows
land, in the subscribers table's unique key (see `digest.audience.store`).

Two kinds of bad input, two answers. A row whose address is invalid is reported with its line
number and skipped; it never stops a send. A file whose structure is broken (a quote never
closed, a field running over lines, a row wider than the header) stops everything, naming the
line: after a stray `"` the CSV reader would otherwise swallow every later row into one field,
and a send would quietly reach a fraction of the list.

A list may be an export of digest's own (`digest subscribers export`): its columns `status`,
`source`, the dates, `reason` and the proof of consent (`OWN_COLUMNS`) are read back as what they
are, so the people who left stay left in the database the list is imported into. A value digest
cannot read in one of them makes the row invalid, never a guess."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from digest.audience.address import normalise_address
from digest.audience.status import ACTIVE, LEFT, Consent, Source, Status
from digest.errors import ConfigError
from digest.models import Subscriber

SETTING = "DIGEST_SUBSCRIBERS"
SHOWN_INVALID = 20
"""Invalid rows kept in memory to print; the report file holds them all."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATES = ("created_at", "confirmed_at", "left_at")
CONSENT = ("consent_at", "consent_ip", "consent_user_agent", "consent_url", "consent_text")
OWN_COLUMNS = ("status", "source", *DATES, "reason", *CONSENT)
"""The columns `digest subscribers export` writes besides email and name: read back as what
they are, never kept as the list's own fields."""


class ListRow(Subscriber):
    """One valid row of a list as an import takes it. A plain list says nothing but who (the
    row becomes active); an export of digest's own also says the status, where the address came
    from, when it joined, confirmed and left, why, and the proof of consent."""

    status: Status = ACTIVE
    source: Source = Source.IMPORT
    reason: str = ""
    created_at: dt.datetime | None = None
    confirmed_at: dt.datetime | None = None
    left_at: dt.datetime | None = None
    consent: Consent | None = None


@dataclass
class InvalidRow:
    line: int
    value: str
    reason: str

    @property
    def text(self) -> str:
        shown = f"{self.value!r}: " if self.value else ""
        return f"line {self.line}: {shown}{self.reason}"


@dataclass
class ListReport:
    """What reading the list found; filled in while the rows stream past."""

    rows: int = 0
    valid: int = 0
    suppressed: int = 0
    invalid_count: int = 0
    left: int = 0
    """Valid rows nobody mails: the address unsubscribed, bounced or complained, in the database
    or by the list's own status column."""
    pending: int = 0
    """Valid rows the list itself says are pending (not confirmed): nobody mails them either."""
    invalid: list[InvalidRow] = field(default_factory=list)
    """The first SHOWN_INVALID invalid rows."""
    sink: Callable[[InvalidRow], None] | None = None
    """Where every invalid row also goes (see `invalid_rows_file`)."""
    saved_to: Path | None = None

    def reject(self, line: int, value: str, reason: str) -> None:
        row = InvalidRow(line, value, reason)
        self.invalid_count += 1
        if len(self.invalid) < SHOWN_INVALID:
            self.invalid.append(row)
        if self.sink is not None:
            self.sink(row)

    def lines(self) -> list[str]:
        """The invalid rows as a person reads them: the first few, then how many more and where
        they all are."""
        shown = [row.text for row in self.invalid]
        more = self.invalid_count - len(self.invalid)
        where = ""
        if self.saved_to is not None:
            where = f" (all {self.invalid_count} are listed in {self.saved_to})"
        if more and shown:
            shown.append(f"… and {more} more invalid rows{where}")
        elif self.invalid_count and (where or not shown):
            shown.append(f"{self.invalid_count} invalid rows{where}")
        return shown


def _open(path: Path, setting: str) -> TextIO:
    try:
        return path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path} ({exc.strerror})") from None


def load_suppressions(path: Path | None) -> frozenset[str]:
    """Addresses never to mail (unsubscribed, bounced): one per line, or the first column of a CSV;
    blank lines and `#` comments are ignored. Compared case-insensitively."""
    if path is None:
        return frozenset()
    found = set()
    with _open(path, "DIGEST_SUPPRESSIONS") as handle:
        for line in handle:
            value = line.split(",", 1)[0].strip().strip('"').strip()
            if not value or value.startswith("#") or "@" not in value:
                continue
            with contextlib.suppress(ValueError):
                value = normalise_address(value)
            found.add(value.lower())
    return frozenset(found)


def _broken(path: Path, label: str, line: int, problem: str) -> ConfigError:
    done = "nothing was sent" if label == SETTING else "nothing was imported"
    return ConfigError(f"{label}: {path}: line {line}: {problem}; the list was not read, {done}")


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if text == "unexpected end of data":
        return "a quoted field is never closed (a stray '\"'?)"
    if "expected after" in text:
        return "text follows a closing '\"' (quote the whole field, doubling inner quotes)"
    return f"unreadable CSV ({text})"


def _records(path: Path, label: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record with the line it is on, the header first. Raises ConfigError at
    the first structural break: a record must be one line, and no wider than the header."""
    with _open(path, label) as handle:
        reader = csv.reader(handle, strict=True)
        width = 0
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _broken(path, label, line, _csv_problem(exc)) from None
            if reader.line_num > line:
                raise _broken(
                    path,
                    label,
                    line,
                    f"a quoted field runs on to line {reader.line_num} (a stray '\"', or a line "
                    "break inside a field, which no subscriber field may hold)",
                )
            if not "".join(cells).strip():
                continue
            if not width:
                width = len(cells)
            elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
                raise _broken(
                    path,
                    label,
                    line,
                    f"{len(cells)} columns where the header has {width} (a comma in an "
                    "unquoted field?)",
                )
            yield line, cells


def _header(path: Path, label: str, records: Iterator[tuple[int, list[str]]]) -> list[str]:
    try:
        _, cells = next(records)
    except StopIteration:
        raise ConfigError(f"{label}: {path} is empty (expected a CSV header)") from None
    header = [column.strip().lower() for column in cells]
    if "email" not in header:
        raise ConfigError(f"{label}: {path}: the header has no 'email' column (found {header!r})")
    return header


def check_structure(path: Path, label: str = SETTING) -> None:
    """Raise ConfigError, naming the line, when the file is not a well-formed list; cheap enough
    (no address checks) to run over the whole file before a send lists anyone."""
    records = _records(path, label)
    _header(path, label, records)
    for _ in records:
        pass


_Choice = TypeVar("_Choice", Status, Source)


class _BadCell(ValueError):
    """A value in one of OWN_COLUMNS that digest cannot read: the row is invalid."""


_LINE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r"}
_LINE_ESCAPED = re.compile(r"\\(.)")


def one_line(text: str) -> str:
    """`text` (the consent text, which may run over lines) in one line, reversibly: a list's
    record must be one line (see `_records`)."""
    return "".join(_LINE_ESCAPES.get(char, char) for char in text)


def from_one_line(text: str) -> str:
    """The text `one_line` wrote."""
    return _LINE_ESCAPED.sub(lambda found: {"n": "\n", "r": "\r"}.get(found[1], found[1]), text)


def _unguarded(value: str) -> str:
    """The cell as it was before `spreadsheet_safe` guarded it."""
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_START else value


def _when(column: str, value: str) -> dt.datetime | None:
    """A date and time as the export writes it (naive UTC), or with an offset (converted)."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _BadCell(
            f"{column} {value!r} is not a date and time (such as 2026-11-26 06:00:00, in UTC)"
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def _choice(kind: type[_Choice], column: str, value: str, default: _Choice) -> _Choice:
    if not value:
        return default
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _BadCell(f"{column} {value!r} is not one of {allowed}") from None


def _own(cells: dict[str, str]) -> dict[str, object]:
    """ListRow's own fields from the OWN_COLUMNS cells of a row (those the header has)."""
    status = _choice(Status, "status", cells.get("status", ""), ACTIVE)
    own: dict[str, object] = {
        "status": status,
        "source": _choice(Source, "source", cells.get("source", ""), Source.IMPORT),
        "reason": _unguarded(cells.get("reason", "")),
    }
    for column in DATES:
        own[column] = _when(column, cells.get(column, ""))
    if status not in LEFT:
        own["left_at"] = None
    at = _when("consent_at", cells.get("consent_at", ""))
    if at is not None:
        own["consent"] = Consent(
            at=at,
            ip=cells.get("consent_ip", ""),
            user_agent=_unguarded(cells.get("consent_user_agent", "")),
            url=_unguarded(cells.get("consent_url", "")),
            text=from_one_line(_unguarded(cells.get("consent_text", ""))),
        )
    elif given := [column for column in CONSENT[1:] if cells.get(column)]:
        raise _BadCell(f"{given[0]} is given without consent_at (when the consent was given)")
    return own


def read_subscribers(
    path: Path, *, suppressed: frozenset[str], report: ListReport, label: str = SETTING
) -> Iterator[ListRow]:
    """Yield every valid, not suppressed row of the CSV at `path`, in file order.

    The header must name an `email` column; `name` is optional; OWN_COLUMNS are read as
    digest's own; other columns are kept in `Subscriber.fields`. Header names are matched
    case-insensitively."""
    records = _records(path, label)
    header = _header(path, label, records)
    email_at = header.index("email")
    name_at = header.index("name") if "name" in header else None
    own_at = [(i, column) for i, column in enumerate(header) if column in OWN_COLUMNS]
    extra = [
        (i, column)
        for i, column in enumerate(header)
        if i not in (email_at, name_at) and column not in OWN_COLUMNS
    ]
    for line, row in records:
        report.rows += 1
        raw = row[email_at].strip() if email_at < len(row) else ""
        if not raw:
            report.reject(line, "", "no address in the email column")
            continue
        try:
            email = normalise_address(raw)
        except ValueError as exc:
            report.reject(line, raw, str(exc))
            continue
        own: dict[str, object] = {}
        if own_at:
            try:
                own = _own({column: row[i].strip() for i, column in own_at if i < len(row)})
            except _BadCell as exc:
                report.reject(line, raw, str(exc))
                continue
        if email.lower() in suppressed:
            report.suppressed += 1
            continue
        report.valid += 1
        name = row[name_at].strip() if name_at is not None and name_at < len(row) else ""
        fields = {
            column: _unguarded(row[i].strip()) for i, column in extra if i < len(row) and column
        }
        yield ListRow(email=email, name=_unguarded(name), fields=fields, line=line, **own)


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (the report is opened in one)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


@contextlib.contextmanager
def invalid_rows_file(report: ListReport, path: Path) -> Iterator[None]:
    """Write every row `report` rejects inside the block to `path` (CSV: line, value, reason),
    replacing an earlier report whole; a list with no invalid row leaves no file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "value", "reason"])
            report.sink = lambda row: writer.writerow(
                [row.line, spreadsheet_safe(row.value), row.reason]
            )
            try:
                yield
            finally:
                report.sink = None
        if report.invalid_count:
            os.replace(temporary, path)
            report.saved_to = path
        else:
            path.unlink(missing_ok=True)
    finally:
        Path(temporary).unlink(missing_ok=True)
