"""`digest subscribers`: the list in the state database, for operators.

digest subscribers import list.csv     active, or as its status column says; who left stays left
digest subscribers add ada@example.com --name "Ada Lovelace"
digest subscribers remove ada@example.com
digest subscribers export --status active > active.csv
digest subscribers count
digest subscribers prune               sign-ups unconfirmed for DIGEST_UNCONFIRMED_DAYS go
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from digest.audience.address import normalise_address
from digest.audience.csv_import import ListReport, one_line, spreadsheet_safe
from digest.audience.importer import import_list
from digest.audience.signups import SignUps
from digest.audience.store import LEFT, Record, Source, Status, SubscriberStore
from digest.config import load_settings
from digest.console import stderr_console
from digest.state.engine import state_engine
from digest.state.schema import utcnow

console = stderr_console()
app = typer.Typer(
    name="subscribers",
    help="Import, add, remove, export, count and prune the subscribers in the state database.",
    no_args_is_help=True,
)

EXPORT_COLUMNS = [
    "email",
    "name",
    "status",
    "source",
    "created_at",
    "confirmed_at",
    "left_at",
    "reason",
    "consent_at",
    "consent_ip",
    "consent_user_agent",
    "consent_url",
    "consent_text",
]


@contextmanager
def _store() -> Iterator[SubscriberStore]:
    engine: Engine = state_engine(load_settings())
    try:
        yield SubscriberStore(engine)
    finally:
        engine.dispose()


def _say(text: str) -> None:
    console.print(text)


def _address(value: str) -> str:
    try:
        return normalise_address(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: {exc}", param_hint="ADDRESS") from None


@app.command("import")
def import_list_command(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="A CSV with an 'email' column.")],
    force: Annotated[
        bool, typer.Option("--force", help="Import the file even if it has not changed.")
    ] = False,
) -> None:
    """Make every row of FILE.csv a subscriber, active unless its status column (as `export`
    writes it) says otherwise; never brings back one who left. A file unchanged since its last
    import is not read again."""
    label = "digest subscribers import"
    report = ListReport()
    with _store() as store:
        done = import_list(store.engine, file, report=report, label=label, force=force)
    if done.unchanged_since is not None:
        _say(
            f"{file} has not changed since its import at {_when(done.unchanged_since)} UTC "
            f"({report.valid} valid, {report.invalid_count} invalid rows): nothing to do "
            "(--force imports it again)."
        )
        return
    for line in report.lines():
        _say(f"  {line}")
    result = done.imported
    notes = "".join(f"; {line}" for line in (result.listed_line, result.skipped_line) if line)
    _say(
        f"Imported {file}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.duplicates} duplicates, "
        f"{report.invalid_count} invalid rows{notes}."
    )


@app.command()
def add(
    address: Annotated[str, typer.Argument(metavar="ADDRESS")],
    name: Annotated[str, typer.Option(help="The subscriber's name.")] = "",
) -> None:
    """Add ADDRESS as an active subscriber (not one who unsubscribed, bounced or complained)."""
    email = _address(address)
    with _store() as store:
        added = store.add(email, name=name.strip(), source=Source.CLI)
    _say(f"{email}: {'added' if added else 'already active'}.")


@app.command()
def remove(address: Annotated[str, typer.Argument(metavar="ADDRESS")]) -> None:
    """Unsubscribe ADDRESS; its row stays, so no import adds it again."""
    email = _address(address)
    with _store() as store:
        change = store.unsubscribe(email, reason="removed by the operator")
        known = store.get(email)
    if change.before in LEFT and known is not None and change.before == change.after:
        _say(f"{email}: already {change.before.value}.")
    else:
        _say(f"{email}: unsubscribed.")


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value is not None else ""


def _export_row(record: Record) -> list[str]:
    consent = record.consent
    free_text = [
        record.name,
        record.reason,
        consent.user_agent if consent else "",
        consent.url if consent else "",
        one_line(consent.text) if consent else "",
    ]
    name, reason, agent, url, text = (spreadsheet_safe(value) for value in free_text)
    return [
        record.email,
        name,
        record.status.value,
        record.source.value,
        _when(record.created_at),
        _when(record.confirmed_at),
        _when(record.left_at),
        reason,
        _when(consent.at) if consent else "",
        consent.ip if consent else "",
        agent,
        url,
        text,
    ]


@app.command()
def export(
    status: Annotated[
        Status | None, typer.Option(help="Only subscribers with this status.")
    ] = None,
) -> None:
    """Write the subscribers as CSV on stdout: address, name, status, dates, proof of consent,
    and the list's other columns."""
    with _store() as store:
        keys = {key for record in store.export(status) for key in record.fields}
        extra = sorted(keys - set(EXPORT_COLUMNS))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS + extra)
        for record in store.export(status):
            fields = [spreadsheet_safe(record.fields.get(column, "")) for column in extra]
            writer.writerow(_export_row(record) + fields)


@app.command()
def prune() -> None:
    """Delete the sign-ups nobody confirmed within DIGEST_UNCONFIRMED_DAYS, with their proof of
    consent; an address that left keeps its row but loses such details. `digest schedule` runs
    this every day."""
    settings = load_settings()
    engine = state_engine(settings)
    try:
        cutoff = utcnow() - dt.timedelta(days=settings.unconfirmed_days)
        pruned = SignUps(engine).prune_unconfirmed(older_than=cutoff)
    finally:
        engine.dispose()
    _say(pruned.line(settings.unconfirmed_days))


@app.command()
def count() -> None:
    """How many subscribers have each status."""
    with _store() as store:
        counts = store.counts()
    for status, number in counts.items():
        print(f"{status.value:<13} {number}")
    print(f"{'total':<13} {sum(counts.values())}")
