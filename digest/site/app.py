"""The Starlette app of the public site, and what its pages share."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from digest.config import Settings, load_settings
from digest.site import archive, membership
from digest.site.context import HERE, Site, site_of
from digest.site.guard import SiteGuard, hide_tokens_from_uvicorn
from digest.state.engine import state_engine
from digest.tokens import signer


async def _not_found(request: Request, exc: Exception) -> Response:
    site = site_of(request)
    _ = site.gettext
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    return site.message(
        request,
        _("Page not found"),
        _("There is no page at this address."),
        status=status,
        link=("/", _("Go to the archive")),
    )


def create_app(
    settings: Settings, *, engine: Engine | None = None, base_url: str | None = None
) -> ASGIApp:
    """The site for `settings`: links in its emails start with `base_url` (DIGEST_SITE_URL)."""
    base = (base_url or settings.site_url).rstrip("/")
    if not base:
        raise ValueError("the site needs its public base URL")
    owned = engine is None
    database = engine if engine is not None else state_engine(settings)
    site = Site(settings=settings, engine=database, base_url=base, signer=signer(settings))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                database.dispose()

    routes = [
        Route("/", archive.index),
        Route("/issues/{date}/", archive.issue_page),
        Route("/issues/{date}/images/{name}", archive.image),
        Route("/feed.xml", archive.feed),
        Route("/subscribe", membership.subscribe_form, methods=["GET"]),
        Route("/subscribe", membership.subscribe, methods=["POST"]),
        Route("/confirm/{token}", membership.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", membership.confirm, methods=["POST"]),
        Route("/unsubscribe", membership.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", membership.unsubscribe, methods=["POST"]),
        Route("/unsubscribe/{token}", membership.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", membership.unsubscribe, methods=["POST"]),
        Route("/resubscribe/{token}", membership.resubscribe, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.site = site
    hide_tokens_from_uvicorn()
    guarded = SiteGuard(app, hsts=site.secure)
    return ProxyHeadersMiddleware(guarded, trusted_hosts=settings.site_trusted_proxies)


def app_from_environment() -> ASGIApp:
    """The app as each `digest site --workers N` process builds it (uvicorn's factory); a worker
    starts without the parent's logging, so it logs one line per record to stderr."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(load_settings())
