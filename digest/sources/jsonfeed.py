"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).

The feed's shape is checked as a whole; one malformed item is skipped with a warning rather
than losing the whole source, since JSON Feeds are often written by hand-rolled generators.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest.errors import SourceError
from digest.models import Image, Story
from digest.sources.advertising import is_advertising
from digest.sources.fetch import Fetched
from digest.sources.items import (
    Base,
    all_skipped,
    describe,
    first_content_image,
    is_web_url,
    language_tag,
    make_image,
    parse_datetime,
    plain,
    title_from_text,
)
from digest.sources.kickers import is_editorial
from digest.sources.links import is_private_link

log = logging.getLogger("digest.sources")

VERSION = re.compile(r"^https?://jsonfeed\.org/version/")
"""JSON Feed's `version` URL; early generators (and the spec's own first examples) wrote http."""


class _Author(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None


class _Item(BaseModel):
    """The item fields digest uses; the spec allows extensions (`_name`) and unknown fields."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str | None = None
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    image: str | None = None
    banner_image: str | None = None
    date_published: str | None = None
    date_modified: str | None = None
    authors: list[_Author] | None = None
    author: _Author | None = None
    tags: list[str] | None = None
    language: str | None = None


class _Feed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = Field(pattern=VERSION.pattern)
    title: str | None = None
    home_page_url: str | None = None
    icon: str | None = None
    favicon: str | None = None
    language: str | None = None
    authors: list[_Author] | None = None
    author: _Author | None = None
    items: list[dict[str, Any]]


def is_json_feed(data: object) -> bool:
    return isinstance(data, dict) and bool(VERSION.match(str(data.get("version", ""))))


def parse_json_feed(data: object, fetched: Fetched, location: str) -> list[Story]:
    """Stories of a decoded JSON Feed document."""
    try:
        feed = _Feed.model_validate(data)
    except ValidationError as exc:
        raise SourceError(f"{location}: not a valid JSON Feed: {describe(exc)}") from None
    base = Base(url=fetched.url, site=feed.home_page_url or "")
    feed_author = _names(feed.authors, feed.author)
    icons = frozenset(url for url in (base.image(feed.icon), base.image(feed.favicon)) if url)
    stories = []
    skipped: list[tuple[str, str]] = []
    for index, raw in enumerate(feed.items):
        try:
            item = _Item.model_validate(raw)
        except ValidationError as exc:
            log.warning("%s: skipped items[%d]: %s", location, index, describe(exc))
            skipped.append(("not a valid item", describe(exc)))
            continue
        story = _story(item, location, base, feed_author, icons, skipped)
        if story:
            language = language_tag(item.language) or language_tag(feed.language)
            stories.append(story.model_copy(update={"language": language}))
    if skipped and not stories:
        raise SourceError(f"{location}: {all_skipped(skipped)}")
    return stories


def _story(
    item: _Item,
    location: str,
    base: Base,
    feed_author: str,
    icons: frozenset[str],
    skipped: list[tuple[str, str]],
) -> Story | None:
    """The item as a story; None, with the reason added to `skipped`, when it cannot be one."""
    text = item.content_html or item.content_text or item.summary or ""
    title = plain(item.title) or title_from_text(text)
    if not title:
        log.debug("%s: skipped an item with neither title nor text", location)
        skipped.append(("neither title nor text", ""))
        return None
    if is_advertising(title, [plain(tag) for tag in item.tags or []], item.id or ""):
        log.info("%s: skipped %r: it is advertising", location, title)
        skipped.append(("advertising", title))
        return None
    url = base.link(item.url or item.external_url)
    if not is_web_url(url):
        log.warning("%s: skipped %r: it has no http(s) url", location, title)
        skipped.append(("no http(s) url", item.url or item.external_url or ""))
        return None
    if is_private_link(url, base.url):
        log.warning("%s: skipped %r: its url %s is on a private address", location, title, url)
        skipped.append(("url on a private address", url))
        return None
    return Story(
        title=title,
        url=url,
        text=text,
        image=_image(item, title, base, icons),
        kicker=next((tag for tag in map(plain, item.tags or []) if is_editorial(tag)), ""),
        author=_names(item.authors, item.author) or feed_author,
        published=parse_datetime(item.date_published) or parse_datetime(item.date_modified),
        source=location,
    )


def _image(item: _Item, title: str, base: Base, icons: frozenset[str]) -> Image | None:
    """The item's `image` or `banner_image`, unless a generator filled it with the feed's own
    `icon` or `favicon` (a logo, not the story's picture); else the first picture in the HTML."""
    for candidate in (item.image, item.banner_image):
        url = base.image(candidate)
        if url and url not in icons:
            return make_image(url, title)
    inline = first_content_image(item.content_html or "", base)
    return inline.to_image(title) if inline else None


def _names(authors: list[_Author] | None, author: _Author | None) -> str:
    """JSON Feed 1.1 lists `authors`; 1.0 had a single `author`."""
    people = authors if authors else [author] if author else []
    return ", ".join(name for person in people if (name := plain(person.name)))
