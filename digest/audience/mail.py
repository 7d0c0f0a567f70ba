"""The two emails a person gets from the site: the sign-up's confirmation and the welcome.

They look like the issue (templates/notice.mjml.j2 shares its styles and button), speak the
newsletter's language (the catalogs in digest/locale/), and go through the same SMTP relay as the
issue. A confirmation names the address it was asked for and says what happens if nobody
confirms: nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from digest.config import Settings
from digest.deliver.smtp import Outgoing, Result, SmtpSender
from digest.errors import DeliveryError
from digest.message import dkim_signed
from digest.render import (
    DARK,
    LIGHT,
    environment,
    mjml_to_html,
    render_template,
    tidy_text,
)
from digest.wording import translator

HTML_TEMPLATE = "notice.mjml.j2"
TEXT_TEMPLATE = "notice.txt.j2"


@dataclass(frozen=True, slots=True)
class Notice:
    """What one short email says."""

    language: str
    subject: str
    heading: str
    paragraphs: list[str]
    button_label: str = ""
    button_url: str = ""
    small_print: list[str] = field(default_factory=list)
    unsubscribe_url: str = ""


def _hours(hours: float) -> str:
    return f"{hours:g}"


def confirmation(settings: Settings, language: str, email: str, confirm_url: str) -> Notice:
    _ = translator(language)
    name = settings.newsletter_name
    return Notice(
        language=language,
        subject=_("Confirm your subscription to %(newsletter)s", newsletter=name),
        heading=_("Please confirm your subscription"),
        paragraphs=[
            _(
                "Someone, hopefully you, asked for %(newsletter)s to be sent to %(address)s. "
                "To start receiving it, confirm with the button below.",
                newsletter=name,
                address=email,
            )
        ],
        button_label=_("Yes, subscribe me"),
        button_url=confirm_url,
        small_print=[
            _(
                "The link works for %(hours)s hours.",
                hours=_hours(settings.confirm_hours),
            ),
            _(
                "If you did not ask for this, ignore this email: you will not be subscribed "
                "and will not hear from us again."
            ),
        ],
    )


def welcome(
    settings: Settings, language: str, email: str, latest_url: str, unsubscribe_url: str
) -> Notice:
    _ = translator(language)
    name = settings.newsletter_name
    return Notice(
        language=language,
        subject=_("Welcome to %(newsletter)s", newsletter=name),
        heading=_("You are subscribed"),
        paragraphs=[
            _(
                "Thank you for confirming. %(newsletter)s will come to %(address)s.",
                newsletter=name,
                address=email,
            )
        ],
        button_label=_("Read the latest issue") if latest_url else "",
        button_url=latest_url,
        small_print=[_("Every issue has a link to unsubscribe at the bottom.")],
        unsubscribe_url=unsubscribe_url,
    )


def render_notice(settings: Settings, notice: Notice) -> tuple[str, str]:
    """The notice's HTML and plain text."""
    env = environment(settings)
    context: dict[str, object] = {
        "newsletter": settings.newsletter_name,
        "language": notice.language,
        "_": translator(notice.language),
        "preheader": notice.paragraphs[0] if notice.paragraphs else "",
        "heading": notice.heading,
        "paragraphs": notice.paragraphs,
        "button_label": notice.button_label,
        "button_url": notice.button_url,
        "small_print": notice.small_print,
        "unsubscribe_url": notice.unsubscribe_url,
        "postal_address": settings.postal_address,
        "light": LIGHT,
        "dark": DARK,
    }
    source, origin = render_template(env, HTML_TEMPLATE, context)
    html = mjml_to_html(source, origin, title=notice.subject)
    text, _ = render_template(env, TEXT_TEMPLATE, context)
    return html, tidy_text(text)


def notice_message(settings: Settings, email: str, notice: Notice) -> tuple[bytes, str]:
    """The complete message (CRLF, DKIM-signed when configured) and its Message-ID."""
    html, text = render_notice(settings, notice)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = settings.mail_from
    message["To"] = email
    message["Subject"] = notice.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid("digest-notice", domain=settings.from_domain)
    message["Auto-Submitted"] = "auto-generated"
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return dkim_signed(message.as_bytes(), settings), message["Message-ID"]


def send_notice(settings: Settings, email: str, notice: Notice) -> Result:
    """Send one notice through the DIGEST_SMTP_* relay; raises DeliveryError when it was not
    accepted."""
    data, message_id = notice_message(settings, email, notice)
    results: list[Result] = []
    sender = SmtpSender(settings, settings.from_address)
    sender.run(iter([Outgoing(0, email, data, message_id)]), results.append, threading.Event())
    if not results or not results[0].accepted:
        reply = results[0].reply if results else "not sent"
        raise DeliveryError(f"{notice.subject!r} to {email}: {reply}")
    return results[0]
