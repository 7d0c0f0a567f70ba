"""News web pages as sources: the page's article is the lead, and the stories of its
related-stories rail (`digest.sources.rail`) are the other items. A home page, a page that only
redirects, or a saved page without its address is refused with one line saying what to give
instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import html as lxml_html

from digest.errors import SourceError
from digest.http import Fetched
from digest.models import Story
from digest.page_profiles import PageProfile, profile_for
from digest.sources.article import Article, article_from_tree, feed_links, parse_html
from digest.sources.items import Base, is_web_url, language_tag
from digest.sources.rail import related_stories

HOME_PAGE_WORDS = 50
"""A page with a feed, no article markup and less text than this is a home page, not a story."""
MAX_REFRESH_SECONDS = 10
_REFRESH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[;,]\s*url\s*=\s*(\S.*?)\s*$", re.I)
_PAGE_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.I)
_FEED_START = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.I)


def is_page(fetched: Fetched) -> bool:
    """Whether a source is an HTML page rather than a feed, judged by its first bytes, then by
    its declared type (feeds are sometimes served as text/html, pages rarely as XML)."""
    head = fetched.content[:2048]
    page, feed = _PAGE_START.search(head), _FEED_START.search(head)
    if page and feed:
        return page.start() < feed.start()
    if page or feed:
        return bool(page)
    return fetched.content_type in ("text/html", "application/xhtml+xml")


def parse_page(
    fetched: Fetched, location: str, profiles: dict[str, PageProfile] | None = None
) -> list[Story]:
    """The page's article as the lead story, then the stories of its related-stories rail."""
    root = parse_html(fetched)
    if root is None:
        raise SourceError(f"{location}: an empty web page")
    article = article_from_tree(root, fetched)
    redirect = meta_refresh(root, fetched.url)
    if redirect and not article.text:
        raise SourceError(
            f"{location}: a page that only redirects to {redirect} (meta refresh); use that address"
        )
    if not article.title:
        raise SourceError(
            f"{location}: a web page without a headline (no JSON-LD, OpenGraph, <h1> or <title>)"
        )
    feeds = feed_links(root, Base(url=fetched.url))
    address = article.canonical or fetched.url
    if not article.declared and (
        (feeds and len(article.text.split()) < HOME_PAGE_WORDS)
        or (is_web_url(address) and urlsplit(address).path in ("", "/"))
    ):
        hint = f"use its feed: {feeds[0]}" if feeds else "give an article's address or a feed"
        raise SourceError(f"{location}: a home page, not an article; {hint}")
    if not (article.text or article.description):
        raise SourceError(f"{location}: no article on the page (no main text or description)")
    url = article.canonical if fetched.is_local else fetched.url
    if not url:
        raise SourceError(f"{location}: a saved page without its address (no canonical link)")
    lead = _lead(article, url, location)
    host = urlsplit(fetched.url).hostname or ""
    profile = profile_for(host, profiles or {})
    rail = related_stories(root, url, location, profile, canonical=article.canonical)
    stories = [lead, *(story for story in rail if story.url != lead.url)]
    language = language_tag(root.getroottree().getroot().get("lang"))
    return [story.model_copy(update={"language": language}) for story in stories]


def meta_refresh(root: lxml_html.HtmlElement, page_url: str) -> str:
    """Where a redirect page sends the reader at once (`<meta http-equiv="refresh"
    content="0; url=…">`); "" for none, or for a page that only reloads itself now and then."""
    for meta in root.xpath("//meta[@http-equiv][@content]"):
        if meta.get("http-equiv", "").strip().lower() != "refresh":
            continue
        match = _REFRESH.match(meta.get("content", ""))
        if match and float(match.group(1)) <= MAX_REFRESH_SECONDS:
            target = Base(url=page_url).link(match.group(2).strip("'\" "))
            if is_web_url(target) and target != page_url:
                return target
    return ""


def _lead(article: Article, url: str, location: str) -> Story:
    return Story(
        title=article.title,
        url=url,
        text=article.text or article.description,
        image=article.image,
        kicker=article.section,
        author=article.author,
        published=article.published,
        source=location,
        lead=True,
    )
