"""`digest state`: the state database itself (today: copying it to another database)."""

from __future__ import annotations

from typing import Annotated

import typer

from digest.config import load_settings
from digest.errors import ConfigError
from digest.state.copy import copy_state
from digest.state.engine import open_engine, state_url
from digest.state.lock import lock_holder
from digest.state.workers import senders

app = typer.Typer(name="state", help="The state database (DIGEST_STATE_URL).", no_args_is_help=True)


@app.command()
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="The database to copy into, e.g. postgresql://digest@db.example/digest; "
            "it must be new and empty.",
        ),
    ],
) -> None:
    """Copy the whole state database (deliveries, sends, subscribers, the scheduler's runs and
    jobs) into another one, e.g. from SQLite to PostgreSQL; then point DIGEST_STATE_URL at it."""
    settings = load_settings()
    url = state_url(settings)
    # What a running scheduler or sender writes after the copy began would stay behind in the
    # old database, and the next send from the new one would mail those readers again.
    running = lock_holder(url)
    if running is not None:
        raise ConfigError(
            f"digest state copy: the scheduler is running ({running.described}); stop it first"
        )
    source = open_engine(url)
    try:
        if sending := senders(source, heard_within=2 * settings.send_lease):
            raise ConfigError(
                f"digest state copy: {len(sending)} sender(s) are at work (see `digest status`); "
                "let the send finish or stop them first"
            )
        target = open_engine(to)
        try:
            copied = copy_state(source, target)
        finally:
            target.dispose()
    finally:
        source.dispose()
    shown = target.url.render_as_string(hide_password=True)
    rows = ", ".join(f"{table} {count}" for table, count in copied.items() if count)
    print(f"Copied {sum(copied.values())} rows into {shown} ({rows or 'no rows'}).")
