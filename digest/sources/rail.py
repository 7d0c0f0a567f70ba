"""A page's related-stories rail ("More For You", "Related", "Read more"…): its stories, read
from structure.

The rail is found by its heading, then read from structure: each item is the largest element
holding links to one story only, and its title, excerpt, picture, caption and credit are told
apart by element and class, never by splitting text (pages often run a title into its excerpt
with no space, as in "…the Vell-Arden fishing lineVell and Arden’s fishing truce…"). Sites whose
markup misleads this are given a `PageProfile` of CSS selectors in settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import html as lxml_html

from digest.models import Image, Story
from digest.page_profiles import PageProfile
from digest.sources.article import figure_caption, img_showing, parse_date
from digest.sources.items import (
    Base,
    first_content_image,
    is_web_url,
    make_image,
    plain,
    without_tracking,
)

log = logging.getLogger("digest.sources")

RAIL_HEADING = re.compile(
    r"(more for you|more (?:[\w’'-]+ ){0,2}from\b.{0,40}|(?:more )?must[- ]reads?"
    r"|more (?:stories|news|articles|to read|on this(?: story| topic)?)"
    r"|related(?: stories| articles| posts| content| coverage| news| reading| links)?"
    r"|read (?:more|next|this next)|you (?:may|might) (?:also )?(?:like|enjoy)"
    r"|recommended(?: for you| stories| reading)?|also read|don[’']?t miss|what to read next"
    r"|further reading|up next|keep reading)",
    re.I,
)
HEADING_CLASSES = re.compile(r"title|heading|header|label|hed\b", re.I)
TITLE_CLASSES = re.compile(r"title|headline|heading|\bhed\b", re.I)
EXCERPT_CLASSES = re.compile(
    r"excerpt|summary|dek\b|description|teaser|standfirst|subtitle|blurb|lede|intro|abstract"
    r"|body-text|body-description",
    re.I,
)
KICKER_CLASSES = re.compile(r"kicker|eyebrow|rubric|overline|section-name|category", re.I)
NOT_STORY_PATHS = re.compile(
    r"/(?:tags?|topics?|category|categories|authors?|people|section|sections|search|newsletters?"
    r"|subscribe|login|account)(?:/|$)",
    re.I,
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CHROME_ROLES = frozenset({"navigation", "contentinfo"})
INLINE_TAGS = frozenset(
    {"a", "span", "em", "strong", "b", "i", "u", "small", "br", "img", "picture", "source"}
)
MAX_INLINE_TITLE_WORDS = 25
MAX_KICKER_WORDS = 6
_PARTS_CLASSES = re.compile(
    "|".join(pattern.pattern for pattern in (TITLE_CLASSES, EXCERPT_CLASSES, KICKER_CLASSES)), re.I
)
_SECTION_SEGMENT = re.compile(r"[^\W\d_]+(?:\.[a-z]{2,5})?", re.I)
MAX_HEADING_CHARS = 60
MIN_TITLE_WORDS = 3


@dataclass(frozen=True)
class _Parts:
    """Where an item's parts are: profile selectors, or "" for the default heuristics."""

    title: str = ""
    link: str = ""
    image: str = ""
    caption: str = ""
    credit: str = ""
    excerpt: str = ""


def related_stories(
    root: lxml_html.HtmlElement,
    page_url: str,
    location: str,
    profile: PageProfile | None = None,
    *,
    canonical: str = "",
) -> list[Story]:
    """The stories of the page's related-stories rail; [] when it has none. Stories are on the
    page's own site, or on the site of its `canonical` address (a page read from a mirror, or
    from edition.cnn.com when its canonical and its rail say www.cnn.com)."""
    base = Base(url=page_url)
    page = _Page(page_url, canonical)
    if profile is not None:
        items = [
            item
            for box in root.cssselect(profile.container)
            for item in box.cssselect(profile.item)
        ]
        if items:
            parts = _Parts(
                profile.title,
                profile.link,
                profile.image,
                profile.caption,
                profile.credit,
                profile.excerpt,
            )
            return _stories(items, parts, base, page, location)
        log.warning(
            "%s: the page profile found no related stories (container %r, item %r); "
            "reading the page without it",
            location,
            profile.container,
            profile.item,
        )
    for heading in _rail_headings(root):
        items = _rail_items(heading, base, page)
        if items:
            return _stories(items, _Parts(), base, page, location)
    return []


def _stories(
    items: list[lxml_html.HtmlElement], parts: _Parts, base: Base, page: _Page, location: str
) -> list[Story]:
    stories: list[Story] = []
    seen = set(page.addresses)
    for item in items:
        story = _item_story(item, parts, base, location)
        if story is not None and story.url not in seen:
            seen.add(story.url)
            stories.append(story)
    return stories


# --- finding the rail ----------------------------------------------------------------------------


def _rail_headings(root: lxml_html.HtmlElement) -> Iterator[lxml_html.HtmlElement]:
    """Elements that title a related-stories section, in document order."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "a", "body"):
            continue
        headingish = element.tag in HEADING_TAGS or HEADING_CLASSES.search(
            element.get("class") or ""
        )
        label = element.get("aria-label") if element.tag in ("section", "aside", "nav") else None
        text = plain(label) if label else plain(element.text_content()) if headingish else ""
        if (
            text
            and len(text) <= MAX_HEADING_CHARS
            and RAIL_HEADING.fullmatch(text.rstrip(" :.»›>"))
        ):
            yield element


@dataclass(frozen=True)
class _Page:
    """The page a rail is on: its address and the canonical one it gives."""

    url: str
    canonical: str = ""

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(url.split("#")[0] for url in (self.url, self.canonical) if url)

    @property
    def sites(self) -> frozenset[str]:
        return frozenset(site for url in self.addresses if (site := _site(url)))


def _rail_items(
    heading: lxml_html.HtmlElement, base: Base, page: _Page
) -> list[lxml_html.HtmlElement]:
    """The items under a rail heading: from the nearest ancestor holding links to two or more
    stories after the heading, each item the largest element holding links to one story only."""
    for box in heading.iterancestors():
        if box.tag in ("body", "html"):
            return []
        links = _story_links(box, heading, base, page)
        if len({url for url, _ in links}) >= 2:
            return _items(box, links)
    return []


def _story_links(
    box: lxml_html.HtmlElement,
    heading: lxml_html.HtmlElement,
    base: Base,
    page: _Page,
) -> list[tuple[str, lxml_html.HtmlElement]]:
    """(URL, <a>) of links to stories on the same site that follow the heading within `box`,
    up to the next heading of a higher rank (the rail's section ends there). Links in the page's
    navigation and footer are not stories, unless the heading itself is in them."""
    found = []
    after = heading in box.iter() and heading is not box
    passed = not after
    # A heading that is no <hN> (a classed <div>, a labelled <section>) ranks as an <h2>.
    rank = _rank(heading) if heading.tag in HEADING_TAGS else 2
    own_chrome = {element for element in (heading, *heading.iterancestors()) if _is_chrome(element)}
    for element in box.iter():
        if element is heading:
            passed = True
            continue
        if not passed or (element.tag != "a" and element.tag not in HEADING_TAGS):
            continue
        if heading in element.iterancestors():
            continue
        if _rank(element) < rank and plain(element.text_content()):
            break
        if element.tag != "a":
            continue
        url = base.link(element.get("href"))
        if not _is_story_url(url, page) or any(
            _is_chrome(up) and up not in own_chrome for up in element.iterancestors()
        ):
            continue
        worded = len(plain(element.text_content()).split()) >= MIN_TITLE_WORDS
        if worded or element.find(".//img") is not None:
            found.append((url.split("#")[0], element))
    return found


def _rank(element: lxml_html.HtmlElement) -> int:
    """A heading's level (1 for <h1>…); 7 for any other element."""
    if element.tag in HEADING_TAGS:
        return int(element.tag[1])
    return 7


def _is_chrome(element: lxml_html.HtmlElement) -> bool:
    """The page's navigation or footer (a footer inside an article is a card's, not the page's)."""
    role = (element.get("role") or "").lower()
    if element.tag == "nav" or role in CHROME_ROLES:
        return True
    return element.tag == "footer" and not any(
        up.tag == "article" for up in element.iterancestors()
    )


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _is_story_url(url: str, page: _Page) -> bool:
    if not is_web_url(url) or url.split("#")[0] in page.addresses:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    same_site = any(host == site or host.endswith("." + site) for site in page.sites)
    return same_site and not _is_section_path(parts.path) and not NOT_STORY_PATHS.search(parts.path)


def _is_section_path(path: str) -> bool:
    """A home or section page (`/`, `/politics`, `/drinks/beer/`, `/dining/index.html`): every
    part of the path one word, with no digits and no hyphenated slug, as stories have."""
    segments = [segment for segment in path.split("/") if segment]
    return all(_SECTION_SEGMENT.fullmatch(segment) for segment in segments)


def _items(
    box: lxml_html.HtmlElement, links: list[tuple[str, lxml_html.HtmlElement]]
) -> list[lxml_html.HtmlElement]:
    """One element per story: climb from its first link while the parent holds no other story."""
    # Keyed by element, not id(): lxml makes a new proxy (and id) for an element nobody holds.
    owner: dict[lxml_html.HtmlElement, set[str]] = {}
    for url, link in links:
        for element in (link, *link.iterancestors()):
            owner.setdefault(element, set()).add(url)
            if element is box:
                break
    items: list[lxml_html.HtmlElement] = []
    seen: set[str] = set()
    for url, link in links:
        if url in seen:
            continue
        seen.add(url)
        item = link
        parent = item.getparent()
        while parent is not None and parent is not box and owner.get(parent) == {url}:
            item = parent
            parent = item.getparent()
        items.append(item)
    return items


# --- reading an item -----------------------------------------------------------------------------


def _item_story(
    item: lxml_html.HtmlElement, parts: _Parts, base: Base, location: str
) -> Story | None:
    link = _link(item, parts.link, base)
    if not link:
        return None
    title_element = _title_element(item, parts.title, link, base)
    if title_element is None:
        return None
    title = plain(title_element.text_content())
    if not title:
        return None
    image = _item_image(item, parts, base, title)
    excerpt = _excerpt(item, parts.excerpt, title_element, image)
    return Story(
        title=title,
        url=without_tracking(link),
        text=excerpt,
        image=image,
        kicker=_kicker(item, title_element),
        published=_item_date(item),
        source=location,
    )


def _kicker(item: lxml_html.HtmlElement, title_element: lxml_html.HtmlElement) -> str:
    """A short label classed as a kicker or section, never a box holding the title (a card's
    "content--no-rubric" wrapper is not its rubric)."""
    for element in item.iter():
        if (
            isinstance(element.tag, str)
            and KICKER_CLASSES.search(element.get("class") or "")
            and element is not title_element
            and not _related(element, title_element)
            and 0 < len(text := plain(element.text_content()).split()) <= MAX_KICKER_WORDS
        ):
            return " ".join(text)
    return ""


def _select(item: lxml_html.HtmlElement, selector: str) -> lxml_html.HtmlElement | None:
    found = item.cssselect(selector)
    return found[0] if found else None


def _link(item: lxml_html.HtmlElement, selector: str, base: Base) -> str:
    if selector:
        element = _select(item, selector)
        anchors = [] if element is None else [element, *element.iter("a")]
    else:
        anchors = [item, *item.iter("a")]
    for anchor in anchors:
        url = base.link(anchor.get("href"))
        if anchor.tag == "a" and is_web_url(url):
            return url.split("#")[0]
    return ""


def _title_element(
    item: lxml_html.HtmlElement, selector: str, link: str, base: Base
) -> lxml_html.HtmlElement | None:
    """A heading, else an element classed as a title, else the most worded link to the story."""
    if selector:
        return _select(item, selector)
    for element in item.iter():
        if element.tag in HEADING_TAGS and plain(element.text_content()):
            return element
    if _is_inline_line(item):
        return item
    classed = _first_by_class(item, TITLE_CLASSES)
    if classed is not None and plain(classed.text_content()):
        return classed
    anchors = [
        anchor
        for anchor in item.iter("a")
        if base.link(anchor.get("href")).split("#")[0] == link and plain(anchor.text_content())
    ]
    return max(anchors, key=lambda anchor: len(plain(anchor.text_content())), default=None)


def _is_inline_line(item: lxml_html.HtmlElement) -> bool:
    """An item that is one short line of inline text with the link inside it ("<li>The War Is
    Making <a>Americans Question Their Relationships</a></li>"): all of it is the title."""
    return (
        all(
            element.tag in INLINE_TAGS and not _PARTS_CLASSES.search(element.get("class") or "")
            for element in item.iterdescendants()
            if isinstance(element.tag, str)
        )
        and len(plain(item.text_content()).split()) <= MAX_INLINE_TITLE_WORDS
    )


def _first_by_class(
    item: lxml_html.HtmlElement, pattern: re.Pattern[str]
) -> lxml_html.HtmlElement | None:
    for element in item.iter():
        if isinstance(element.tag, str) and pattern.search(element.get("class") or ""):
            return element
    return None


def _item_image(item: lxml_html.HtmlElement, parts: _Parts, base: Base, title: str) -> Image | None:
    scope = _select(item, parts.image) if parts.image else item
    if scope is None:
        return None
    found = first_content_image(lxml_html.tostring(scope, encoding="unicode"), base)
    if found is None:
        return None
    img = img_showing(found.url, scope, base)
    caption, credit = figure_caption(img) if img is not None else ("", "")
    if parts.caption:
        caption = _selected_text(item, parts.caption)
    if parts.credit:
        credit = _selected_text(item, parts.credit)
    if credit and caption.endswith(credit):
        caption = caption[: -len(credit)].rstrip(" ,;:|–—-/")
    return make_image(
        found.url,
        title,
        alt=found.alt,
        caption=caption,
        credit=credit,
        width=found.width,
        height=found.height,
    )


def _selected_text(item: lxml_html.HtmlElement, selector: str) -> str:
    element = _select(item, selector)
    return plain(element.text_content()) if element is not None else ""


def _excerpt(
    item: lxml_html.HtmlElement,
    selector: str,
    title_element: lxml_html.HtmlElement | None,
    image: Image | None,
) -> str:
    """The item's excerpt: a selected or excerpt-classed element, else its paragraphs, else its
    text without the title, caption, credit and kicker."""
    if selector:
        return _selected_text(item, selector)
    for element in item.iter():
        if (
            isinstance(element.tag, str)
            and element is not title_element
            and EXCERPT_CLASSES.search(element.get("class") or "")
            and not TITLE_CLASSES.search(element.get("class") or "")
            and (title_element is None or not _related(element, title_element))
            and not _inside_caption(element)
            and (text := plain(element.text_content()))
        ):
            return text
    paragraphs = [
        plain(p.text_content())
        for p in item.iter("p")
        if not _inside_caption(p)
        and (title_element is None or title_element not in p.iterancestors())
    ]
    if any(paragraphs):
        return " ".join(text for text in paragraphs if text)
    text = plain(item.text_content())
    removed = [
        plain(title_element.text_content()) if title_element is not None else "",
        image.caption if image else "",
        image.credit if image else "",
    ]
    for part in removed:
        if part:
            text = text.replace(part, " ", 1)
    return " ".join(text.split())


def _related(element: lxml_html.HtmlElement, other: lxml_html.HtmlElement) -> bool:
    """Whether one holds the other (the excerpt is never the title, nor a box around it)."""
    return element in other.iterancestors() or other in element.iterancestors()


def _inside_caption(element: lxml_html.HtmlElement) -> bool:
    return any(
        ancestor.tag in ("figure", "figcaption")
        or bool(re.search(r"caption|credit", ancestor.get("class") or "", re.I))
        for ancestor in (element, *element.iterancestors())
        if isinstance(ancestor.tag, str)
    )


def _item_date(item: lxml_html.HtmlElement) -> dt.datetime | None:
    for time_element in item.iter("time"):
        moment = parse_date(time_element.get("datetime"))
        if moment:
            return moment
    return None
