"""Joining and leaving: the sign-up form, the confirmation behind the emailed link, and the
unsubscribe page and its RFC 8058 one-click POST.

Rules the pages keep:
- a GET never changes anything (mail scanners open every link in a message): each link leads to a
  page with one button, and only its POST acts;
- the sign-up answer is the same page whether or not the address is known, and mail goes out after
  the answer, so neither the words nor the time taken tell who is subscribed;
- at most one confirmation per address per DIGEST_CONFIRM_RESEND_MINUTES, at most
  DIGEST_SIGNUPS_PER_IP sign-ups per client address an hour, a honeypot and a minimum fill time.
"""

from __future__ import annotations

import datetime as dt
import logging

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from digest.audience.address import normalise_address
from digest.audience.mail import confirmation, send_notice, welcome
from digest.audience.signups import Confirmation
from digest.audience.status import LEFT, Consent, Status
from digest.errors import DigestError
from digest.message import clean_text
from digest.site import forms
from digest.site.context import Site, mask_address, site_of
from digest.tokens import Purpose, Stamped

log = logging.getLogger("digest.site")

SIGNUP_WINDOW = dt.timedelta(hours=1)
MAX_ADDRESS = 320
MAX_NAME = 200
ONE_CLICK = "One-Click"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request) -> FormData | None:
    """The posted form, or None when the body is not a form (garbled, or a wrong type)."""
    try:
        return await request.form(max_files=0, max_fields=20, max_part_size=4096)
    except (AssertionError, ValueError, KeyError):
        return None


def _text(form: FormData | None, name: str) -> str:
    value = form.get(name, "") if form is not None else ""
    return value if isinstance(value, str) else ""


# --- the sign-up form ---


def _signup_page(
    site: Site,
    request: Request,
    *,
    email: str = "",
    name: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    binding, new = forms.cookie_binding(request)
    context = {
        "title": site.gettext("Subscribe"),
        "csrf": forms.issue(site.signer, binding, _now()),
        "email": email,
        "name": name,
        "error": error,
        "honeypot": forms.HONEYPOT,
        "consent_text": site.consent_text,
    }
    response = site.page(request, "subscribe.html", context, status=status)
    if new:
        forms.set_cookie(response, binding, secure=site.secure)
    return response


async def subscribe_form(request: Request) -> Response:
    return _signup_page(site_of(request), request)


def _check_email(site: Site, raw: str) -> tuple[str, str]:
    """The address to sign up and an error for the form (one of them empty)."""
    _ = site.gettext
    if not raw.strip():
        return "", _("Please enter your email address.")
    if len(raw) > MAX_ADDRESS or any(char in raw for char in "\r\n\x00"):
        return "", _("This is not an email address we can send to.")
    try:
        return normalise_address(raw), ""
    except ValueError:
        return "", _("This is not an email address we can send to.")


def _sent_page(site: Site, request: Request, background: BackgroundTask | None) -> Response:
    """The one answer to every sign-up, whatever we know about the address."""
    _ = site.gettext
    return site.message(
        request,
        _("Check your mailbox"),
        _(
            "If this address is not subscribed yet, a link to confirm is on its way to it. "
            "Open the email and press the button in it; nothing is sent until you do."
        ),
        _("No email after a few minutes? Look in the spam folder, or try again later."),
        background=background,
    )


def _confirm_url(site: Site, email: str, now: dt.datetime) -> str:
    return site.url("/confirm/" + site.signer.stamp(Purpose.CONFIRM, email, now))


def _send_confirmation(site: Site, email: str, now: dt.datetime) -> None:
    """After the answer went out: mail the link; when it cannot be sent, let the person ask
    again at once. Logged without the link, which is a token."""
    notice = confirmation(site.settings, site.language, email, _confirm_url(site, email, now))
    try:
        send_notice(site.settings, email, notice)
    except DigestError as exc:
        log.error("Confirmation to %s not sent: %s", email, exc)
        site.signups.release_confirmation(email, now.replace(tzinfo=None))
        return
    log.info("Confirmation sent to %s", email)


def _request_confirmation(
    site: Site, request: Request, email: str, name: str, now: dt.datetime, form_url: str
) -> BackgroundTask | None:
    consent = Consent(
        at=now.replace(tzinfo=None),
        ip=_client(request),
        user_agent=request.headers.get("user-agent", "")[:500],
        url=form_url,
        text=site.consent_text,
    )
    resend = dt.timedelta(minutes=site.settings.confirm_resend_minutes)
    outcome = site.signups.request_confirmation(
        email, name=name, consent=consent, resend_after=resend
    )
    log.info("Sign-up of %s: %s", email, outcome.value)
    if not outcome.send:
        return None
    return BackgroundTask(_send_confirmation, site, email, now)


def _over_limit(site: Site, request: Request, now: dt.datetime) -> bool:
    return not site.limits.hit(
        f"signup:{_client(request)}",
        limit=site.settings.signups_per_ip,
        window=SIGNUP_WINDOW,
        now=now,
    )


def _too_many(site: Site, request: Request) -> Response:
    _ = site.gettext
    return site.message(
        request,
        _("Too many sign-ups"),
        _("Too many sign-ups came from your network in the last hour. Please try again later."),
        status=429,
    )


def _refused(site: Site, request: Request, link: tuple[str, str] | None = None) -> Response:
    _ = site.gettext
    return site.message(
        request,
        _("Please try again"),
        _(
            "This form was open too long or did not come from this site. "
            "Reload it and send it again."
        ),
        status=403,
        link=link,
    )


async def subscribe(request: Request) -> Response:
    site = site_of(request)
    now = _now()
    if await run_in_threadpool(_over_limit, site, request, now):
        return _too_many(site, request)
    form = await _form(request)
    binding = request.cookies.get(forms.COOKIE, "")
    checked = forms.check(site.signer, _text(form, "csrf"), binding, now)
    if not checked.ok or not forms.same_origin(request, site.base_url):
        return _refused(site, request, ("/subscribe", site.gettext("Subscribe")))
    if _text(form, forms.HONEYPOT):
        return _sent_page(site, request, None)
    raw_email = _text(form, "email")
    name = clean_text(_text(form, "name"))[:MAX_NAME]
    assert checked.issued is not None
    if now - checked.issued < dt.timedelta(seconds=site.settings.signup_min_seconds):
        error = site.gettext("That was quick. Please check your address and send the form again.")
        return _signup_page(site, request, email=raw_email[:MAX_ADDRESS], name=name, error=error)
    email, error = _check_email(site, raw_email)
    if error:
        shown = raw_email[:MAX_ADDRESS].replace("\r", " ").replace("\n", " ")
        return _signup_page(site, request, email=shown, name=name, error=error, status=400)
    task = await run_in_threadpool(
        _request_confirmation, site, request, email, name, now, site.url("/subscribe")
    )
    return _sent_page(site, request, task)


# --- confirming ---


def _invalid_link(site: Site, request: Request) -> Response:
    _ = site.gettext
    return site.message(
        request,
        _("This link does not work"),
        _(
            "It may have been cut short or changed on the way. Copy the whole link from the "
            "email into the address bar, or sign up again."
        ),
        status=404,
        link=("/subscribe", _("Sign up")),
    )


def _expired_link(site: Site, request: Request) -> Response:
    _ = site.gettext
    return site.message(
        request,
        _("This link has expired"),
        _(
            "Confirmation links work for %(hours)s hours. Sign up again for a new one.",
            hours=f"{site.settings.confirm_hours:g}",
        ),
        status=410,
        link=("/subscribe", _("Sign up")),
    )


def _confirm_claim(site: Site, token: str, now: dt.datetime) -> tuple[Stamped | None, bool]:
    """The genuine confirm token's content (or None), and whether it has expired."""
    stamped = site.signer.unstamp(Purpose.CONFIRM, token, now=now, max_age=dt.timedelta.max)
    if stamped is None:
        return None, False
    expired = now - stamped.issued > dt.timedelta(hours=site.settings.confirm_hours)
    return stamped, expired


def _subscribed_page(site: Site, request: Request, background: BackgroundTask | None) -> Response:
    _ = site.gettext
    return site.message(
        request,
        _("You are subscribed"),
        _(
            "Thank you. The next issue of %(newsletter)s will be in your mailbox.",
            newsletter=site.settings.newsletter_name,
        ),
        link=("/", _("Read past issues")),
        background=background,
    )


async def confirm_page(request: Request) -> Response:
    site = site_of(request)
    token = request.path_params["token"]
    now = _now()
    stamped, expired = _confirm_claim(site, token, now)
    if stamped is None:
        return _invalid_link(site, request)
    record = await run_in_threadpool(site.store.get, stamped.value)
    if record is None:
        return _invalid_link(site, request)
    if record.status == Status.ACTIVE:
        return _subscribed_page(site, request, None)
    left_after = (
        record.left_at is not None and stamped.issued.replace(tzinfo=None) <= record.left_at
    )
    if expired or left_after:
        return _expired_link(site, request)
    _ = site.gettext
    context = {
        "title": _("Confirm your subscription"),
        "heading": _("Confirm your subscription"),
        "paragraphs": [
            _(
                "Subscribe %(address)s to %(newsletter)s?",
                address=mask_address(record.email),
                newsletter=site.settings.newsletter_name,
            )
        ],
        "action": f"/confirm/{token}",
        "csrf": forms.issue(site.signer, forms.link_binding(token), now),
        "button": _("Yes, subscribe me"),
        "consent_text": "",
        "small_print": [],
    }
    return site.page(request, "action.html", context)


def _latest_issue_url(site: Site) -> str:
    latest = site.published.latest(site.settings, site.engine)
    return site.url(f"/issues/{latest.isoformat()}/") if latest else ""


def _send_welcome(site: Site, email: str) -> None:
    unsubscribe = site.settings.unsubscribe_url.format(token=site.signer.sign(email))
    notice = welcome(site.settings, site.language, email, _latest_issue_url(site), unsubscribe)
    try:
        send_notice(site.settings, email, notice)
    except DigestError as exc:
        log.error("Welcome email to %s not sent: %s", email, exc)


async def confirm(request: Request) -> Response:
    site = site_of(request)
    token = request.path_params["token"]
    now = _now()
    form = await _form(request)
    checked = forms.check(site.signer, _text(form, "csrf"), forms.link_binding(token), now)
    if not checked.ok or not forms.same_origin(request, site.base_url):
        return _refused(site, request, (f"/confirm/{token}", site.gettext("Back")))
    stamped, expired = _confirm_claim(site, token, now)
    if stamped is None:
        return _invalid_link(site, request)
    if expired:
        return _expired_link(site, request)
    outcome = await run_in_threadpool(
        site.signups.confirm, stamped.value, issued=stamped.issued, now=now.replace(tzinfo=None)
    )
    log.info("Confirmation of %s: %s", stamped.value, outcome.value)
    if outcome is Confirmation.UNKNOWN:
        return _invalid_link(site, request)
    if outcome is Confirmation.STALE:
        return _expired_link(site, request)
    task = None
    if outcome is Confirmation.CONFIRMED and site.settings.welcome_email:
        task = BackgroundTask(_send_welcome, site, stamped.value)
    return _subscribed_page(site, request, task)


# --- leaving ---


def _unsubscribe_token(request: Request) -> str:
    return request.path_params.get("token") or request.query_params.get("token", "")


def _left_page(site: Site, request: Request, email: str, token: str) -> Response:
    _ = site.gettext
    newsletter = site.settings.newsletter_name
    context = {
        "title": _("You have unsubscribed"),
        "heading": _("You have unsubscribed"),
        "paragraphs": [
            _(
                "%(address)s will get no more email from %(newsletter)s.",
                address=mask_address(email),
                newsletter=newsletter,
            ),
            _("Changed your mind? You can subscribe again: we will send a link to confirm."),
        ],
        "action": f"/resubscribe/{token}",
        "csrf": forms.issue(site.signer, forms.link_binding(token), _now()),
        "button": _("Subscribe again"),
        "consent_text": site.consent_text,
        "small_print": [],
    }
    return site.page(request, "action.html", context)


async def unsubscribe_page(request: Request) -> Response:
    site = site_of(request)
    token = _unsubscribe_token(request)
    email = site.signer.verify(token)
    if email is None:
        return _invalid_link(site, request)
    record = await run_in_threadpool(site.store.get, email)
    if record is not None and record.status in LEFT:
        return _left_page(site, request, record.email, token)
    _ = site.gettext
    context = {
        "title": _("Unsubscribe"),
        "heading": _("Unsubscribe from %(newsletter)s?", newsletter=site.settings.newsletter_name),
        "paragraphs": [_("%(address)s will get no more issues.", address=mask_address(email))],
        "action": f"/unsubscribe/{token}",
        "csrf": forms.issue(site.signer, forms.link_binding(token), _now()),
        "button": _("Unsubscribe"),
        "consent_text": "",
        "small_print": [],
    }
    return site.page(request, "action.html", context)


async def unsubscribe(request: Request) -> Response:
    """RFC 8058: a POST with `List-Unsubscribe=One-Click` from a mail provider unsubscribes at
    once and gets a plain 200. The page's own button posts a form with its CSRF token."""
    site = site_of(request)
    token = _unsubscribe_token(request)
    form = await _form(request)
    one_click = _text(form, "List-Unsubscribe") == ONE_CLICK
    if not one_click:
        checked = forms.check(site.signer, _text(form, "csrf"), forms.link_binding(token), _now())
        if not checked.ok or not forms.same_origin(request, site.base_url):
            return _refused(site, request, (f"/unsubscribe/{token}", site.gettext("Back")))
    email = site.signer.verify(token)
    if email is None:
        if one_click:
            return PlainTextResponse("Unknown or damaged link.\n", 404)
        return _invalid_link(site, request)
    reason = "one-click unsubscribe (RFC 8058)" if one_click else "unsubscribe page"
    change = await run_in_threadpool(lambda: site.store.unsubscribe(email, reason=reason))
    log.info("Unsubscribe of %s: %s -> %s", email, change.before.value, change.after.value)
    if one_click:
        return PlainTextResponse("Unsubscribed.\n", 200)
    return _left_page(site, request, change.email, token)


async def resubscribe(request: Request) -> Response:
    """The button on the page after leaving: a new sign-up, confirmed by email like any other."""
    site = site_of(request)
    token = request.path_params["token"]
    now = _now()
    if await run_in_threadpool(_over_limit, site, request, now):
        return _too_many(site, request)
    form = await _form(request)
    checked = forms.check(site.signer, _text(form, "csrf"), forms.link_binding(token), now)
    if not checked.ok or not forms.same_origin(request, site.base_url):
        return _refused(site, request, (f"/unsubscribe/{token}", site.gettext("Back")))
    email = site.signer.verify(token)
    if email is None:
        return _invalid_link(site, request)
    task = await run_in_threadpool(
        _request_confirmation, site, request, email, "", now, site.url("/unsubscribe/…")
    )
    return _sent_page(site, request, task)
