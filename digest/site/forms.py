"""The site's forms: CSRF tokens, and the checks that keep robots off the sign-up form.

A form token is a stamped token (digest.tokens, purpose FORM) over what the form is bound to:
- the sign-up form, which has nothing secret in it, to a random value also set as a cookie
  (SameSite=Strict, HttpOnly): a page elsewhere can neither read the cookie nor post with it;
- a form behind a link from an email (confirm, unsubscribe), to that link's own token, so it needs
  no cookie: the link already proves who is asking, and unsubscribing must work with cookies off.
A POST whose Origin (or Sec-Fetch-Site) says it comes from another site is refused as well.

The token's time also gives the sign-up form its minimum fill time: a robot posts within a second
of loading the page, a person takes longer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from digest.tokens import Purpose, TokenSigner

COOKIE = "digest_form"
FORM_MAX_AGE = dt.timedelta(hours=12)
"""A form left open longer than this must be reloaded."""
HONEYPOT = "website"
"""A field people never see (hidden by the stylesheet, skipped by screen readers) and robots
fill in."""


@dataclass(frozen=True, slots=True)
class FormCheck:
    ok: bool
    issued: dt.datetime | None = None


def link_binding(token: str) -> str:
    """What a form behind an emailed link is bound to: a digest of the link's token (the form's
    own token must not repeat the link's)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def cookie_binding(request: Request) -> tuple[str, bool]:
    """The sign-up form's cookie value, and whether it has to be set (a new visitor)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def set_cookie(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(FORM_MAX_AGE.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def same_origin(request: Request, site_url: str) -> bool:
    """False when the browser says the POST comes from another site."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    expected = urlsplit(site_url)
    given = urlsplit(origin)
    return (given.scheme, given.netloc) == (expected.scheme, expected.netloc)


def issue(signer: TokenSigner, binding: str, now: dt.datetime) -> str:
    return signer.stamp(Purpose.FORM, binding, now)


def check(signer: TokenSigner, token: object, binding: str, now: dt.datetime) -> FormCheck:
    """Whether the posted form token is genuine, recent and bound to `binding`."""
    if not isinstance(token, str) or not binding:
        return FormCheck(False)
    stamped = signer.unstamp(Purpose.FORM, token, now=now, max_age=FORM_MAX_AGE)
    if stamped is None or not secrets.compare_digest(stamped.value, binding):
        return FormCheck(False)
    return FormCheck(True, stamped.issued)
