"""`digest serve` (the editor's desk) and `digest archive` (the public web archive)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from digest.config import load_settings
from digest.console import stderr_console
from digest.errors import ConfigError
from digest.web.guard import is_loopback

console = stderr_console()


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: DIGEST_SERVE_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: DIGEST_SERVE_PORT)."),
    ] = None,
) -> None:
    """Open the editor's desk: preview, check, edit and test-send issues in a browser."""
    import uvicorn

    from digest.web.app import create_app

    settings = load_settings()
    host = host or settings.serve_host
    port = port or settings.serve_port
    if not is_loopback(host) and not settings.serve_password.get_secret_value():
        raise ConfigError(
            f"DIGEST_SERVE_PASSWORD: required to listen on {host}, which is not loopback "
            "(anyone who can reach it could edit and send)"
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"The editor's desk is at http://{shown}:{port}/ (Ctrl+C to stop)", highlight=False
    )
    uvicorn.run(
        create_app(settings, host=host),
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # uvicorn's records go through digest's handler (digest/console.py)
        timeout_graceful_shutdown=2,
    )


def archive(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the archive into.")],
) -> None:
    """Write every issue as a static web archive (index + one page per issue, no tokens)."""
    from digest.archive import write_archive

    result = write_archive(load_settings(), out)
    console.print(result.summary)
    print(result.folder / "index.html")
