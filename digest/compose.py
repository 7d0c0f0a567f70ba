"""Composing the issue: teasers for the selected stories, the subject and the preheader."""

from __future__ import annotations

import datetime as dt

from digest.config import Settings
from digest.models import Issue, Story
from digest.select import Selection
from digest.teaser import teaser_for

PREHEADER_CHARS = 140


def _one_line(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…" when cut."""
    text = _one_line(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–—-")
    return f"{cut}…"


def compose_issue(selection: Selection, settings: Settings, date: dt.date) -> Issue:
    def with_teaser(story: Story, words: int) -> Story:
        return story.model_copy(update={"teaser": teaser_for(story, words, settings.language)})

    lead = with_teaser(selection.lead, settings.lead_teaser_words)
    more = [with_teaser(story, settings.item_teaser_words) for story in selection.more]
    subject = settings.subject.format(name=settings.newsletter_name, title=lead.title, date=date)
    return Issue(
        date=date,
        newsletter=settings.newsletter_name,
        subject=shorten(subject, 200),
        preheader=shorten(lead.teaser or lead.title, PREHEADER_CHARS),
        language=settings.language,
        lead=lead,
        more=more,
    )
