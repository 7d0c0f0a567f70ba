"""Article enrichment: a story whose source gave too little text for a teaser (a feed's one-line
summary, a rail's cut-off excerpt) gets its article's main text, fetched from its page.

Only the selected stories are enriched, concurrently, through one `Http` session whose on-disk
cache makes a second build of the same day cost a `304` per article. A page that cannot be read
leaves the story as its source gave it, with one warning line.
"""

from __future__ import annotations

import logging

from digest.config import Settings
from digest.errors import SourceError
from digest.http import ACCEPT_PAGE, Fetched, Http, is_reserved
from digest.models import Story
from digest.select import Selection
from digest.sources.article import Article, article_from_tree, parse_html, read_article
from digest.sources.items import is_web_url
from digest.sources.page import meta_refresh
from digest.teaser import reads_as_story
from digest.text import html_to_text

log = logging.getLogger("digest.enrich")

PAGE_TYPES = ("text/html", "application/xhtml+xml", "")


def word_count(text: str) -> int:
    return len(html_to_text(text).split())


def needs_article(story: Story, min_words: int) -> bool:
    """Whether a teaser must come from the article: too little text, no editor's teaser, and a
    page on the web (not a documentation domain such as the sample's example.com)."""
    return (
        min_words > 0
        and not story.teaser.strip()
        and is_web_url(story.url)
        and not is_reserved(story.url)
        and word_count(story.text) < min_words
    )


def enrich_selection(selection: Selection, settings: Settings) -> Selection:
    """The selection with its thin stories' text replaced by their articles' main text; as it is
    when DIGEST_FETCH_SOURCES_ONLY forbids reading anything but the sources."""
    stories = [selection.lead, *selection.more]
    if settings.fetch_sources_only:
        return selection
    if not any(needs_article(story, settings.enrich_min_words) for story in stories):
        return selection
    with Http(settings) as http:
        enriched = enrich_stories(stories, settings, http)
    return selection.model_copy(update={"lead": enriched[0], "more": enriched[1:]})


def enrich_stories(stories: list[Story], settings: Settings, http: Http) -> list[Story]:
    """Each story, enriched when it needs it; in the same order."""

    def enrich(story: Story) -> Story:
        if not needs_article(story, settings.enrich_min_words):
            return story
        language = story.language or settings.language or "en"
        return enrich_story(story, http, settings.item_teaser_words, language)

    return http.map(enrich, stories)


def enrich_story(story: Story, http: Http, teaser_words: int = 35, language: str = "en") -> Story:
    """`story` with its article's text (and picture, author and date where it had none).

    The page's own summary (`og:description`, JSON-LD `description`) stands in for the text
    when the text's opening is not the story's prose (a label, a heading, a fragment) and the
    summary is, at the budget of `teaser_words`."""
    try:
        article = _read(story.url, story.source, http)
    except SourceError as error:
        log.warning("Kept %r as its source gave it: %s", story.title, error)
        return story
    text = article.text
    if not reads_as_story(text, teaser_words, story.title, language) and reads_as_story(
        article.description, teaser_words, story.title, language
    ):
        text = article.description
    if word_count(text) <= word_count(story.text):
        log.warning(
            "Kept %r as its source gave it: no more article text found at %s",
            story.title,
            story.url,
        )
        return story
    return story.model_copy(
        update={
            "text": text,
            "image": story.image or article.image,
            "author": story.author or article.author,
            "published": story.published or article.published,
        }
    )


def _read(url: str, source: str, http: Http) -> Article:
    """The article at `url` (a link found in `source`), through one redirect page (`<meta
    http-equiv="refresh">`, as link shorteners and news aggregators serve) if that is what `url`
    gives; the fetch policy applies to both."""
    fetched = _get_page(url, source, http)
    root = parse_html(fetched)
    if root is None:
        return Article(url=fetched.url)
    article = article_from_tree(root, fetched)
    target = meta_refresh(root, fetched.url) if not article.text else ""
    if not target or is_reserved(target):
        return article
    return read_article(_get_page(target, source, http))


def _get_page(url: str, source: str, http: Http) -> Fetched:
    fetched = http.get(url, source=source, accept=ACCEPT_PAGE)
    if fetched.content_type not in PAGE_TYPES:
        raise SourceError(f"{url} is {fetched.content_type}, not a web page")
    return fetched
