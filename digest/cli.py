"""The `digest` command: parses arguments, calls the pipeline, and turns a DigestError into
one line and an exit code."""

from __future__ import annotations

import logging
import sys

import typer

from digest.commands import build, mailbox, serve
from digest.commands import check as check_command
from digest.commands import schedule as schedule_command
from digest.commands import send as send_command
from digest.commands import site as site_command
from digest.commands import state as state_command
from digest.commands import subscribers as subscribers_command
from digest.commands import worker as worker_command
from digest.console import error_line, log_handler, shown_stdout, stderr_console
from digest.errors import DigestError

app = typer.Typer(
    name="digest",
    help="Build a daily newsletter from feeds, pages and curated files, preview it, and send it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(build.build)
app.command()(build.preview)
app.command()(check_command.check)
app.command()(serve.serve)
app.command()(serve.archive)
app.command()(send_command.send)
app.command()(send_command.status)
app.command()(schedule_command.schedule)
app.command()(site_command.site)
app.command()(worker_command.worker)
app.add_typer(state_command.app)
app.add_typer(subscribers_command.app)
app.command()(mailbox.mailbox)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs and tracebacks."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        handlers=[log_handler(verbose=verbose)],
        force=True,
    )
    noisy_loggers = (
        "httpx",
        "httpcore",
        "apscheduler",
        "cssutils",
        "charset_normalizer",
        "imapclient",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # trafilatura warns about its own internals ("discarding data: None"); digest says what
    # it could not read in its own words.
    logging.getLogger("trafilatura").setLevel(logging.DEBUG if verbose else logging.ERROR)
    # flufl.bounce logs each detector it runs, and a traceback when one trips over a malformed
    # bounce; `digest mailbox` reports what it could not read in one line of its own.
    logging.getLogger("flufl.bounce").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    if verbose:
        logging.getLogger("digest").setLevel(logging.DEBUG)


def main() -> None:
    """Run the app; usage errors are typer's, a DigestError becomes one line and its exit code.
    At a terminal, control characters in what commands print on stdout are shown, not obeyed."""
    try:
        with shown_stdout():
            app()
    except DigestError as exc:
        stderr_console().print(error_line(str(exc)))
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
