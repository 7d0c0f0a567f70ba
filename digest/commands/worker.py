"""`digest worker`: help with the sends in progress on a shared state database, then wait for the
next one (see digest/deliver/standby.py)."""

from __future__ import annotations

import logging
import resource
import sys
import threading
from typing import Annotated

import typer

from digest.config import load_settings
from digest.console import error_line, log_handler, stderr_console
from digest.deliver.standby import serve
from digest.deliver.worker import PartDone
from digest.errors import DigestError
from digest.signals import on_stop_signals, signal_name
from digest.state.engine import state_engine
from digest.state.ledger import Ledger

log = logging.getLogger("digest.worker")


def worker(
    issue: Annotated[
        str | None,
        typer.Option(
            "--issue",
            metavar="YYYY-MM-DD",
            help="Help only with the send of this issue (digest send --workers uses it).",
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="Exit when no send is left to help with, instead of waiting."),
    ] = False,
) -> None:
    """Help with every send in progress on DIGEST_STATE_URL, then wait for the next one.

    Run it on any machine that shares the state database (PostgreSQL) and has the same secret
    key, DKIM and relay settings; it takes its rows and its message from the database. SIGTERM
    or Ctrl-C: the messages in flight finish, unsent rows go back to the others, exit 0."""
    settings = load_settings()
    engine = state_engine(settings)
    stop = threading.Event()

    def act(signum: int) -> None:
        if not stop.is_set():
            log.info("%s: finishing the messages in flight, then stopping", signal_name(signum))
        stop.set()

    def told(issue: str, done: PartDone) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info(
            "Issue %s: this worker sent %d, failed %d (peak memory %.0f MB)",
            issue,
            done.sent,
            done.failed,
            peak,
        )

    try:
        with on_stop_signals(act):
            serve(
                settings,
                Ledger(engine),
                stop,
                issue=issue,
                once=once,
                told=told,
            )
    finally:
        engine.dispose()


def main() -> None:
    """`python -m digest.commands.worker`: this command without the rest of the CLI's imports
    (about 40 MB less per process), as `digest send --workers` starts its workers."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(verbose=False)], force=True)
    try:
        typer.run(worker)
    except DigestError as exc:
        stderr_console().print(error_line(str(exc)))
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
