"""`digest mailbox`: one pass over the bounce mailbox."""

from __future__ import annotations

from typing import Annotated

import typer

from digest.config import load_settings
from digest.console import stderr_console
from digest.state.engine import state_engine

console = stderr_console()


def mailbox(
    reread: Annotated[
        bool,
        typer.Option(
            "--reread",
            help="Read again the messages earlier passes left alone (after changing "
            "DIGEST_SECRET_KEY_PREVIOUS or DIGEST_BOUNCE_ADDRESS, say).",
        ),
    ] = False,
) -> None:
    """Read the mailbox bounces, complaints and mailto unsubscribes arrive at (DIGEST_MAILBOX_URL)
    once: a permanent bounce makes an address bounced, DIGEST_SOFT_BOUNCE_LIMIT temporary ones
    within 30 days too, a complaint makes it complained, an unsubscribe request unsubscribed.

    Each message handled is marked (or moved to DIGEST_MAILBOX_DONE_FOLDER) and never read again;
    any other message is left as it was, and remembered so later passes do not read it again."""
    from digest.audience.mailbox.run import read_mailbox

    settings = load_settings()
    engine = state_engine(settings)
    try:
        summary = read_mailbox(settings, engine, reread=reread)
    finally:
        engine.dispose()
    console.print(summary.line)
