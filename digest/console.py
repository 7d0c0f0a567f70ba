"""What digest prints for a person at a terminal: one way, used by every command.

Most of what commands print carries outside text: feed titles in a summary, a setting's value in
an error, an SMTP server's reply. Rich reads `[...]` in printed strings as console markup, so a
title holding `[/b]` crashed a build and `[red]` vanished from a message. Here markup is off for
good: strings are printed exactly as written, and style comes only from `rich.text.Text` spans
that our code builds (`error_line`). A new command takes `stderr_console()` and prints strings.
"""

from __future__ import annotations

import logging
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text


def stderr_console() -> Console:
    """Rich on stderr with console markup and highlighting off, long lines kept whole."""
    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def error_line(message: str) -> Text:
    """`error: <message>` with only the label styled."""
    return Text.assemble(("error:", "bold red"), " ", message)


def log_handler(*, verbose: bool) -> logging.Handler:
    """Rich's handler at a terminal (markup off: a record's text is shown as written); one plain
    line per record under a process manager, whatever the width."""
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(
            console=stderr_console(),
            markup=False,
            show_time=False,
            show_path=False,
            rich_tracebacks=verbose,
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    return handler
