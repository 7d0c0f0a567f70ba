"""Composing the issue: teasers for the selected stories, the subject and the preheader."""

from __future__ import annotations

import datetime as dt
import logging

from digest.config import Settings
from digest.models import Issue, Story
from digest.select import Selection
from digest.teaser import teaser_for
from digest.wording import catalog_languages, has_catalog, issue_language

PREHEADER_CHARS = 140
log = logging.getLogger(__name__)


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
    stories = [selection.lead, *selection.more]
    language = issue_language(settings.language, [story.language for story in stories])

    def with_teaser(story: Story, words: int) -> Story:
        teaser = teaser_for(story, words, story.language or language)
        return story.model_copy(update={"teaser": teaser})

    lead = with_teaser(selection.lead, settings.lead_teaser_words)
    more = [with_teaser(story, settings.item_teaser_words) for story in selection.more]
    subject = settings.subject.format(name=settings.newsletter_name, title=lead.title, date=date)
    if settings.templates_dir is None and not has_catalog(language):
        log.warning(
            "No wording for language %r (there is for %s): the email's fixed words stay English; "
            "copy templates/ and set DIGEST_TEMPLATES_DIR to translate them",
            language,
            ", ".join(catalog_languages()),
        )
    return Issue(
        date=date,
        newsletter=settings.newsletter_name,
        subject=shorten(subject, 200),
        preheader=shorten(lead.teaser or lead.title, PREHEADER_CHARS),
        language=language,
        lead=lead,
        more=more,
    )
