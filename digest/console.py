"""What digest prints for a person at a terminal: one way, used by every command.

Most of what commands print carries outside text: feed titles in a summary, a setting's value in
an error, an SMTP server's reply, a subscriber's name. Two things keep it from acting on the
terminal:

- Rich reads `[...]` in printed strings as console markup, so a title holding `[/b]` crashed a
  build and `[red]` vanished from a message. Here markup (and `:emoji:` codes) are off for good:
  strings are printed as written, and style comes only from `rich.text.Text` spans that our code
  builds (`error_line`).
- ESC and the other C0/C1 control characters in a title would be obeyed by the terminal: move the
  cursor, rewrite a line, retitle the window, answer back. `shown` writes each as a visible escape
  (`\\x1b`). It is applied to everything the stderr console renders (messages, errors, rich's log
  lines), to every log record (whose text also stays on one line for a process manager's log),
  and, when stdout is a terminal, to what commands print there (`shown_stdout`); stdout piped to a
  file or a program is data (`digest subscribers export > list.csv`) and is written exactly.

A new command takes `stderr_console()` and prints strings, and prints results with `print`.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

from rich.console import Console, ConsoleOptions, RenderableType
from rich.logging import RichHandler
from rich.segment import Segment
from rich.text import Text

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 controls but tab and line feed, DEL, and C1 controls (U+0080 to U+009F: a terminal may read
U+009B alone as the start of an escape sequence)."""
_CONTROLS_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""The same, and line feed, tab and the Unicode line and paragraph separators, which log readers
split records at."""
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def shown(text: str, *, one_line: bool = False) -> str:
    """`text` with its control characters written as visible escapes (`\\x1b`, `\\r`), so a
    terminal shows them instead of obeying them; `one_line` escapes line breaks and tabs too."""
    pattern = _CONTROLS_AND_BREAKS if one_line else _CONTROLS
    return pattern.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    """The character as Python writes it in a string literal: `\\x1b`, `\\n`, `\\u2028`."""
    return repr(match.group())[1:-1]


class _ShownConsole(Console):
    """Rich's console, showing the control characters of every text segment it renders; the
    terminal codes rich writes for its own styles and cursor moves are not in the segments'
    text and go out as usual."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not _CONTROLS.search(segment.text):
                yield segment
            else:
                yield Segment(shown(segment.text), segment.style)


def stderr_console() -> Console:
    """Rich on stderr with console markup, emoji codes and highlighting off, long lines kept
    whole, control characters shown."""
    return _ShownConsole(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def error_line(message: str) -> Text:
    """`error: <message>` with only the label styled."""
    return Text.assemble(("error:", "bold red"), " ", message)


class _RecordFormatter(logging.Formatter):
    """A record's text on one line with its control characters shown; a traceback (logged in
    debug mode only) keeps its lines, its control characters shown too."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return shown(super().formatMessage(record), one_line=True)

    def formatException(self, ei: ExcInfo) -> str:
        return shown(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return shown(super().formatStack(stack_info))


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
        handler.setFormatter(_RecordFormatter("%(message)s"))
        return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RecordFormatter("%(levelname)s %(name)s: %(message)s"))
    return handler


class _ShownWriter(io.TextIOBase):
    """A text stream that writes `shown` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(shown(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return self._stream.encoding


@contextmanager
def shown_stdout() -> Iterator[None]:
    """While it lasts, what is printed to stdout has its control characters shown, when stdout is
    a terminal; data piped elsewhere is left exact."""
    stream = sys.stdout
    if stream is None or not stream.isatty():
        yield
        return
    sys.stdout = _ShownWriter(stream)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = stream
