"""What the site's pages share: the running site (settings, database, signer, templates) and
how a page is answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from digest.audience.signups import SignUps
from digest.audience.store import SubscriberStore
from digest.config import Settings
from digest.site.limits import RateLimits
from digest.site.published import Published
from digest.tokens import TokenSigner
from digest.wording import translator

HERE = Path(__file__).parent


def mask_address(email: str) -> str:
    """The address as a page shows it to whoever holds the link: enough to recognise, not
    enough to learn it ('ada@example.com' -> 'a•••@example.com')."""
    local, at, domain = email.rpartition("@")
    if not at:
        return "•••"
    return f"{local[:1]}•••@{domain}"


@dataclass
class Site:
    """One running app: its settings, database and signer, and what its pages share."""

    settings: Settings
    engine: Engine
    base_url: str
    signer: TokenSigner
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=HERE / "templates")
    )
    published: Published = field(default_factory=Published)
    limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.limits = RateLimits(self.engine)

    @property
    def store(self) -> SubscriberStore:
        return SubscriberStore(self.engine)

    @property
    def signups(self) -> SignUps:
        return SignUps(self.engine)

    @property
    def language(self) -> str:
        """DIGEST_LANGUAGE, or else the language of the newest issue sent."""
        if self.settings.language:
            return self.settings.language
        issues = self.published.issues(self.settings, self.engine)
        return issues[0].language if issues else "en"

    @property
    def gettext(self) -> Callable[..., str]:
        return translator(self.language)

    @property
    def consent_text(self) -> str:
        return self.settings.consent_text.strip() or self.gettext(
            "I would like to receive %(newsletter)s by email. I can unsubscribe at any time "
            "with the link in every issue.",
            newsletter=self.settings.newsletter_name,
        )

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    def url(self, path: str) -> str:
        return self.base_url + path

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        background: BackgroundTask | None = None,
    ) -> Response:
        settings = self.settings
        full = {
            "language": self.language,
            "newsletter": settings.newsletter_name,
            "postal_address": settings.postal_address,
            "_": self.gettext,
            **context,
        }
        response = self.templates.TemplateResponse(
            request, name, full, status_code=status, background=background
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def message(
        self,
        request: Request,
        heading: str,
        *paragraphs: str,
        status: int = 200,
        link: tuple[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> Response:
        """A page that only tells something (and maybe links somewhere)."""
        url, label = link or ("", "")
        context = {
            "title": heading,
            "heading": heading,
            "paragraphs": paragraphs,
            "link_url": url,
            "link_label": label,
        }
        return self.page(request, "message.html", context, status=status, background=background)


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site
