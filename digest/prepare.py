"""The issue rendered for mail and encoded once (render, then message): what every command that
mails an issue needs without building one. Kept apart from the pipeline so that a send or a dry
run does not load the feed and page readers."""

from __future__ import annotations

from digest.config import Settings
from digest.message import MessageTemplate, compose
from digest.models import Issue, RenderedEmail
from digest.render import render_email


def view_online_url(issue: Issue, settings: Settings) -> str:
    return settings.view_online_url.format(date=issue.date.isoformat())


def _mail_render(issue: Issue, settings: Settings, preview: RenderedEmail | None) -> RenderedEmail:
    """Only local (relative) images make it differ from the preview."""
    local_images = any(
        story.image and not story.image.url.startswith(("https://", "http://"))
        for story in issue.stories
    )
    if preview is not None and not local_images:
        return preview
    return render_email(issue, settings, asset_base_url=view_online_url(issue, settings) or None)


def prepare_message(
    issue: Issue, settings: Settings, preview: RenderedEmail | None = None
) -> MessageTemplate:
    """The issue rendered once for mail, ready to personalise per recipient."""
    return compose(issue, _mail_render(issue, settings, preview), settings)
