"""`digest check`: print the quality gate's findings for a built issue, one line each."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from digest.commands.options import DateOption
from digest.config import load_settings
from digest.console import stderr_console

console = stderr_console()


def check(
    date: DateOption = None,
    spam: Annotated[
        bool, typer.Option("--spam/--no-spam", help="Score with SpamAssassin when installed.")
    ] = True,
) -> None:
    """Check the built issue (size, accessibility, links, contrast, parts, headers, spam score);
    exit 1 when anything is an error."""
    from digest.check import check_issue, has_errors

    findings = check_issue(load_settings(), date, spam=spam)
    for finding in findings:
        print(finding.line)
    counts = {level: sum(f.severity == level for f in findings) for level in ("error", "warning")}
    console.print(f"{counts['error']} error(s), {counts['warning']} warning(s)")
    if has_errors(findings):
        # Not typer.Exit: digest.cli.main runs click with standalone_mode=False, which swallows it.
        sys.exit(1)
