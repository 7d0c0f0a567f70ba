"""The subscriber list (a CSV file) and the suppression list, read as streams.

A list can hold a million rows, so nothing here loads it whole: rows are validated and yielded
one at a time. De-duplication needs memory proportional to the list, so it happens where the rows
land, in the ledger's unique key (see `digest.state.ledger.Ledger.enqueue`). A bad row is reported
with its line number and skipped; it never stops a send."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field

from digest.errors import ConfigError

MAX_REPORTED = 1000
"""Invalid rows kept for the report; the rest are only counted, so a broken big file stays cheap."""


class Subscriber(BaseModel):
    """One valid row of the list. `email` is the address as mail goes to it (an internationalised
    domain in its ASCII form); `key` is what makes two rows the same person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    line: int = 0

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass
class InvalidRow:
    line: int
    value: str
    reason: str


@dataclass
class ListReport:
    """What reading the list found; filled in while the rows stream past."""

    rows: int = 0
    valid: int = 0
    suppressed: int = 0
    invalid_count: int = 0
    invalid: list[InvalidRow] = field(default_factory=list)

    def reject(self, line: int, value: str, reason: str) -> None:
        self.invalid_count += 1
        if len(self.invalid) < MAX_REPORTED:
            self.invalid.append(InvalidRow(line, value, reason))


def normalise_address(value: str) -> str:
    """The address as mail goes to it; raises ValueError with email-validator's reason.

    No DNS look-ups: a list is checked for syntax only, and a dead domain shows up as a bounce."""
    try:
        result = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.ascii_email or result.normalized


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


def read_subscribers(
    path: Path, *, suppressed: frozenset[str], report: ListReport
) -> Iterator[Subscriber]:
    """Yield every valid, not suppressed row of the CSV at `path`, in file order.

    The header must name an `email` column; `name` is optional; other columns are kept in
    `Subscriber.fields`. Header names are matched case-insensitively."""
    with _open(path, "DIGEST_SUBSCRIBERS") as handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip().lower() for column in next(reader)]
        except StopIteration:
            raise ConfigError(
                f"DIGEST_SUBSCRIBERS: {path} is empty (expected a CSV header)"
            ) from None
        except csv.Error as exc:
            raise ConfigError(f"DIGEST_SUBSCRIBERS: {path}: line 1: {exc}") from None
        if "email" not in header:
            raise ConfigError(
                f"DIGEST_SUBSCRIBERS: {path}: the header has no 'email' column (found {header!r})"
            )
        email_at = header.index("email")
        name_at = header.index("name") if "name" in header else None
        extra = [(i, column) for i, column in enumerate(header) if i not in (email_at, name_at)]
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.rows += 1
                report.reject(line, "", f"unreadable CSV ({exc})")
                continue
            if not row or not any(cell.strip() for cell in row):
                continue
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
            if email.lower() in suppressed:
                report.suppressed += 1
                continue
            report.valid += 1
            name = row[name_at].strip() if name_at is not None and name_at < len(row) else ""
            fields = {column: row[i].strip() for i, column in extra if i < len(row) and column}
            yield Subscriber(email=email, name=name, fields=fields, line=line)
