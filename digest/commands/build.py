"""`digest build` and `digest preview`: make the issue folder an editor looks at."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from digest.commands.options import DateOption
from digest.config import load_settings
from digest.console import stderr_console
from digest.errors import BuildError
from digest.store import ISSUE_FILE, issue_dir

console = stderr_console()


def build(
    date: DateOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            help="A feed, page or curated file (path or URL); repeat for several. "
            "Default: DIGEST_SOURCES, else the bundled sample.",
        ),
    ] = None,
) -> None:
    """Gather the stories and build the issue folder (issue.json, email.html/.txt/.eml)."""
    from digest.pipeline import build_issue

    result = build_issue(load_settings(), date=date, sources=source)
    console.print(result.summary)
    print(result.folder / "email.html")


def preview(
    date: DateOption = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the preview in a web browser.")
    ] = False,
) -> None:
    """Re-render the issue from its (edited) issue.json, or build it; print its file:// URL."""
    from digest.pipeline import build_issue, rerender

    settings = load_settings()
    try:
        result = rerender(settings, date)
    except BuildError:
        if date is not None and (issue_dir(settings, date) / ISSUE_FILE).exists():
            raise
        result = build_issue(settings, date=date)
    console.print(result.summary)
    url = (result.folder / "email.html").resolve().as_uri()
    print(url)
    if open_browser:
        webbrowser.open(url)
