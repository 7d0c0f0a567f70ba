"""`digest schedule`: the long-running process that sends the day's issue at DIGEST_SCHEDULE."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from digest.config import load_settings


def schedule(
    next_count: Annotated[
        int,
        typer.Option(
            "--next",
            metavar="N",
            min=0,
            help="Print the next N run times (local and UTC) and exit.",
        ),
    ] = 0,
    once: Annotated[
        bool, typer.Option("--once", help="Run the job now (today's issue) and exit.")
    ] = False,
) -> None:
    """Build and send the day's issue at DIGEST_SCHEDULE in DIGEST_TIMEZONE, until stopped.

    SIGTERM or SIGINT lets the messages in flight finish, then exits 0; the next start resumes."""
    from digest.schedule.process import serve
    from digest.schedule.run import run_now
    from digest.schedule.times import next_run_times

    settings = load_settings()
    if next_count:
        for moment in next_run_times(settings, next_count):
            utc = moment.astimezone(dt.UTC)
            print(f"{moment:%a %Y-%m-%d %H:%M %Z}  =  {utc:%Y-%m-%d %H:%M} UTC")
        return
    if once:
        outcome = run_now(settings)
        if outcome.kind == "failed":
            raise typer.Exit(1)
        return
    serve(settings)
