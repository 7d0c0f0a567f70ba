"""Options shared by several commands."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}") from None


DateOption = Annotated[
    dt.date | None,
    typer.Option(
        "--date",
        parser=_parse_date,
        metavar="YYYY-MM-DD",
        help="The issue's date (build: today in DIGEST_TIMEZONE; others: the newest issue).",
    ),
]
