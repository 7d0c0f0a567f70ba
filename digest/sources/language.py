"""The language of a source that declares none, told from its words (py3langid, whose model ships
inside the package): enough text and a confident answer, or nothing."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from digest.models import Story
from digest.sources.items import plain

MIN_WORDS = 40
"""Fewer words than this (a feed of bare titles) are too few to tell a language from."""
MIN_CONFIDENCE = 0.9
SAMPLE_CHARS = 4_000
"""Enough of a source's text for a sure answer; reading more only costs time."""


@functools.cache
def _identifier() -> LanguageIdentifier:
    """Loaded once per process (about a second), and only when a source declares no language."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detected_language(texts: Iterable[str]) -> str:
    """The language `texts` are written in (a BCP 47 primary tag such as "fr"), or "" when
    they are too short or the answer is unsure."""
    sample = ""
    for text in texts:
        sample += " " + text
        if len(sample) >= SAMPLE_CHARS:
            break
    if len(sample.split()) < MIN_WORDS:
        return ""
    language, confidence = _identifier().classify(sample[:SAMPLE_CHARS])
    return language if confidence >= MIN_CONFIDENCE else ""


def with_language(stories: list[Story]) -> list[Story]:
    """A publisher's stories, those that declare no language given the one their source's words
    are in, told from all of them together (one story's few words are too few)."""
    if not stories or all(story.language for story in stories):
        return stories
    language = detected_language(
        f"{story.title}. {plain(story.text)[:600]}" for story in stories if not story.language
    )
    if not language:
        return stories
    return [
        story if story.language else story.model_copy(update={"language": language})
        for story in stories
    ]
