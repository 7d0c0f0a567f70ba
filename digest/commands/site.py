"""`digest site`: the public website (sign-up, confirm, unsubscribe, archive), served by uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from digest.config import load_settings
from digest.console import stderr_console
from digest.errors import ConfigError
from digest.state.engine import state_engine
from digest.tokens import signer
from digest.web.guard import is_loopback

console = stderr_console()


def site(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: DIGEST_SITE_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: DIGEST_SITE_PORT)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Processes to serve with (default: DIGEST_SITE_WORKERS)."),
    ] = None,
) -> None:
    """Serve the public site: sign-up with double opt-in, one-click unsubscribe, the archive."""
    import uvicorn

    from digest.site.app import create_app

    settings = load_settings()
    host = host or settings.site_host
    port = port or settings.site_port
    workers = workers or settings.site_workers
    base_url = settings.site_url
    if not base_url:
        if not is_loopback(host):
            raise ConfigError(
                f"DIGEST_SITE_URL: required to listen on {host}, which is not loopback "
                "(the links in confirmation emails are built from it)"
            )
        base_url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    signer(settings)
    state_engine(settings).dispose()
    console.print(
        f"The site is at {base_url} (listening on {host}:{port}, {workers} worker(s); "
        "Ctrl+C to stop)"
    )
    options = {
        "host": host,
        "port": port,
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_config": None,
        "log_level": logging.getLevelName(logging.getLogger().level).lower(),
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        uvicorn.run(create_app(settings, base_url=base_url), **options)
        return
    # Each worker builds its own app from the environment; it must see the same base URL.
    os.environ["DIGEST_SITE_URL"] = base_url
    uvicorn.run("digest.site.app:app_from_environment", factory=True, workers=workers, **options)
