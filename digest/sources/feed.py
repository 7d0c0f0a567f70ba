"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 feeds, read with feedparser.

feedparser copes with broken XML and odd encodings; the items' pictures come from their media
elements as `feed_media` reads them (so the item's text never comes from a media caption), and
their dates as `feed_dates` reads them.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import feedparser

from digest.errors import SourceError
from digest.http.charset import sniff_charset
from digest.models import Image, Story
from digest.sources.advertising import is_advertising
from digest.sources.feed_dates import published
from digest.sources.feed_media import ItemMedia, Media, feedparser_media, media_by_item
from digest.sources.fetch import Fetched
from digest.sources.items import (
    Base,
    ContentImage,
    absolute,
    all_skipped,
    first_content_image,
    has_image_extension,
    is_web_url,
    language_tag,
    make_image,
    plain,
    title_from_text,
)
from digest.sources.kickers import is_editorial
from digest.sources.links import is_private_link, original_link, tidy_path, unwrapped
from digest.sources.pictures import is_icon, is_junk_picture, is_share_button

log = logging.getLogger("digest.sources")

BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
"""Types that are certainly not a feed, named as they are instead of as broken XML."""
_XML_DECLARED_ENCODING = re.compile(
    rb"""\s*<\?xml\s[^>]{0,200}?\bencoding\s*=\s*["'](?P<name>[^"'>]{0,100})["']"""
)
_CODEC_NAME = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,39}")
_CHAR_REF = re.compile(rb"&#(?:[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>[0-9]+));")
EVERYWHERE_MIN_ITEMS = 3
ART_NAME_MIN = 6
"""A picture file name this long that equals the channel cover's is a copy of the cover."""
# `itunes:keywords` arrive as tags but are search words ("podcast", "joe"), not a section.
KEYWORD_SCHEMES = frozenset(
    {"http://www.itunes.com/", "http://www.itunes.com/dtds/podcast-1.0.dtd"}
)


def parse_feed(fetched: Fetched, location: str) -> list[Story]:
    """Stories of an RSS or Atom feed; broken XML is used when feedparser still finds items."""
    headers = {} if fetched.is_local else {"content-location": fetched.url}
    # The charset as `digest.http` reads it (header, XML declaration, then the bytes), so a
    # server's wrong charset does not garble the items or hide them behind an XML error.
    kind = fetched.content_type or "application/xml"
    charset = sniff_charset(fetched.content, fetched.charset)
    headers["content-type"] = f"{kind}; charset={charset}"
    # Not sanitized here: feedparser's sanitizer drops `srcset` and lazy-loading `data-src`,
    # which hide the real pictures. `Story.text` is raw source HTML; only text made from it
    # by `digest.text` ever reaches an email.
    content = _valid_char_refs(_declared_codec_name(fetched.content, charset))
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers, sanitize_html=False)
    if not parsed.entries:
        if parsed.get("bozo"):
            kind = _not_text(fetched)
            if kind:
                raise SourceError(f"{location}: {kind}, not a feed or a web page")
            raise SourceError(f"{location}: not a feed: {_reason(parsed.get('bozo_exception'))}")
        if not parsed.get("version"):
            raise SourceError(f"{location}: not a feed: no RSS or Atom items found")
        return []
    declared = _self_link(parsed.feed, fetched.url)
    # Atom: an entry without an author has the feed's. An RSS channel's author is its publisher.
    feed_author = _author(parsed.feed) if parsed.get("version", "").startswith("atom") else ""
    base = Base(
        url=fetched.url,
        site=absolute(parsed.feed.get("link"), declared or fetched.url),
        declared=declared,
    )
    media = media_by_item(content, len(parsed.entries))
    stories = []
    skipped: list[tuple[str, str]] = []
    everywhere = _on_every_item(parsed.entries)
    covers = _covers(parsed.feed, base)
    read: list[tuple[Any, ItemMedia]] = []
    for index, entry in enumerate(parsed.entries):
        item_media = media[index] if media else feedparser_media(entry)
        story = _story(entry, item_media, location, base, skipped, everywhere, covers)
        if story is None:
            continue
        # The channel's <language> is its items'.
        story = story.model_copy(
            update={
                "author": story.author or feed_author,
                "language": _language(entry) or language_tag(parsed.feed.get("language")),
            }
        )
        stories.append(story)
        read.append((entry, item_media))
    if skipped and not stories:
        raise SourceError(f"{location}: {all_skipped(skipped)}")
    return _without_shared_pictures(stories, read, base, covers)


def _without_shared_pictures(
    stories: list[Story], read: list[tuple[Any, ItemMedia]], base: Base, covers: frozenset[str]
) -> list[Story]:
    """Stories whose picture another story of the feed also has (a site's banner, a series'
    artwork, section icons) get their next picture instead, or none: it is no one story's."""
    shared: frozenset[str] = frozenset()
    while True:
        counts = Counter(story.image.url for story in stories if story.image)
        repeated = frozenset(url for url, count in counts.items() if count > 1)
        if not repeated:
            return stories
        shared |= repeated
        stories = [
            story.model_copy(
                update={
                    "image": _image(entry, media, story.text, story.title, base, covers | shared)
                }
            )
            if story.image and story.image.url in repeated
            else story
            for story, (entry, media) in zip(stories, read, strict=True)
        ]


def _language(entry: Any) -> str:
    """The language an item's own text declares (`xml:lang` on its content, summary or title)."""
    details = [*entry.get("content", []), entry.get("summary_detail"), entry.get("title_detail")]
    for detail in details:
        tag = language_tag(detail.get("language")) if detail else ""
        if tag:
            return tag
    return ""


def _covers(feed: Any, base: Base) -> frozenset[str]:
    """The channel's own pictures (`<image>`, `itunes:image`): a podcast's cover art or a site's
    logo, never one episode's or story's picture."""
    found = set()
    for key in ("image", "itunes_image"):
        value = feed.get(key)
        href = value.get("href") or value.get("url") if isinstance(value, dict) else value
        if isinstance(href, str) and (url := base.image(href)):
            found.add(url)
    return frozenset(found)


def _is_cover(url: str, covers: frozenset[str]) -> bool:
    """Whether `url` is the channel's cover, also when the episode carries its own copy of it
    (`…/nightvalelogo_web4.jpg` for the channel's `…/nightvalelogo-web4.jpg`)."""
    name = _art_name(url)
    return url in covers or (
        len(name) >= ART_NAME_MIN and name in {_art_name(cover) for cover in covers}
    )


def _art_name(url: str) -> str:
    name = PurePosixPath(urlsplit(url).path).name.rsplit(".", 1)[0]
    return re.sub(r"[\W_]+", "", name).casefold()


def _proxy_hosts(entry: Any) -> frozenset[str]:
    """The host of a feed proxy whose redirect is the item's `link` while its `origLink` names
    the article (FeedBurner on `rss.slashdot.org`): pictures from there are its ads."""
    original = original_link(entry)
    proxy = urlsplit(str(entry.get("link") or "")).hostname or ""
    return frozenset({proxy}) if original and proxy != urlsplit(original).hostname else frozenset()


def _self_link(feed: Any, source_url: str) -> str:
    """The address a feed says it is served from (`<atom:link rel="self">`), made absolute."""
    for link in feed.get("links", []):
        if link.get("rel") == "self" and link.get("href"):
            return absolute(link["href"], source_url)
    return ""


def _declared_codec_name(content: bytes, charset: str) -> bytes:
    """`content` whose XML declaration names its encoding with characters no codec name has
    (`encoding="UTF\x008"`) naming `charset` instead: feedparser tries the declared name when
    `charset` fails, and such a name makes Python raise ValueError, not LookupError."""
    declared = _XML_DECLARED_ENCODING.match(content)
    if declared is None or _CODEC_NAME.fullmatch(declared["name"]):
        return content
    return content[: declared.start("name")] + charset.encode() + content[declared.end("name") :]


def _valid_char_refs(content: bytes) -> bytes:
    """`content` with numeric character references that name no character made ones that do,
    since feedparser's fallback parser raises on them: a UTF-16 pair written as two references
    (`&#55357;&#56832;`, as some CMSs write emoji) becomes the character; a lone half, or a number
    past U+10FFFF, becomes U+FFFD, as a browser shows it. Other references stay as written."""
    if b"&#" not in content:
        return content
    refs = [(ref, _char_ref_value(ref)) for ref in _CHAR_REF.finditer(content)]
    if all(0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF for _, code in refs):
        return content
    pieces: list[bytes] = []
    position = 0
    index = 0
    while index < len(refs):
        ref, code = refs[index]
        following = refs[index + 1] if index + 1 < len(refs) else None
        pieces.append(content[position : ref.start()])
        if (
            following
            and following[0].start() == ref.end()
            and 0xD800 <= code <= 0xDBFF
            and 0xDC00 <= following[1] <= 0xDFFF
        ):
            pieces.append(b"&#x%X;" % (0x10000 + ((code - 0xD800) << 10) + following[1] - 0xDC00))
            position, index = following[0].end(), index + 2
            continue
        named = 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        pieces.append(ref[0] if named else b"&#xFFFD;")
        position, index = ref.end(), index + 1
    pieces.append(content[position:])
    return b"".join(pieces)


def _char_ref_value(ref: re.Match[bytes]) -> int:
    """The code point a reference names; -1 for a number far past U+10FFFF (which int() would
    refuse to read in decimal beyond 4,300 digits)."""
    written = (ref["hex"] or ref["dec"]).lstrip(b"0") or b"0"
    if len(written) > 7:
        return -1
    return int(written, 16 if ref["hex"] else 10)


def _story(
    entry: Any,
    media: ItemMedia,
    location: str,
    base: Base,
    skipped: list[tuple[str, str]],
    everywhere: frozenset[str] = frozenset(),
    covers: frozenset[str] = frozenset(),
) -> Story | None:
    """The item as a story; None, with the reason added to `skipped`, when it cannot be one."""
    text = _text(entry, media.captions)
    if not plain(text) and media.description:
        text, media = media.description, media.as_text()
    title = plain(entry.get("title")) or title_from_text(text)
    if not title:
        log.debug("%s: skipped an item with neither title nor text", location)
        skipped.append(("neither title nor text", ""))
        return None
    categories = [plain(tag.get("term") or tag.get("label")) for tag in entry.get("tags", [])]
    if is_advertising(title, categories, str(entry.get("id") or "")):
        log.info("%s: skipped %r: it is advertising", location, title)
        skipped.append(("advertising", title))
        return None
    link = tidy_path(base.link(_link(entry)))
    if base.site and link.rstrip("/") == base.site.rstrip("/"):
        # Every episode of some podcasts links to the show's page: the episode's own address
        # (a permalink guid, else its audio) tells it apart, or it would be "sent" already.
        link = _own_address(entry, base) or link
    if not is_web_url(link):
        log.warning("%s: skipped %r: it has no http(s) link", location, title)
        skipped.append(("no http(s) link", _link(entry)))
        return None
    if is_private_link(link, base.url):
        log.warning("%s: skipped %r: its link %s is on a private address", location, title, link)
        skipped.append(("link to a private address", link))
        return None
    return Story(
        title=title,
        url=link,
        text=text,
        image=_image(entry, media, text, title, base, covers),
        kicker=_kicker(entry, everywhere),
        author=_author(entry),
        published=published(entry),
        source=location,
    )


def _own_address(entry: Any, base: Base) -> str:
    """An item's address of its own besides its link: a permalink guid, else its enclosure."""
    guid = str(entry.get("id") or "")
    if is_web_url(guid) and guid.rstrip("/") != base.site.rstrip("/"):
        return guid
    for enclosure in entry.get("enclosures", []):
        url = base.link(enclosure.get("href") or "")
        if is_web_url(url):
            return url
    return ""


def _link(entry: Any) -> str:
    """The item's web page: a feed proxy's `origLink` (FeedBurner's, Pheedo's: their `link` is a
    tracking redirect), an `alternate` link (HTML first), else `link`, which feedparser fills
    from a permalink guid; a known click-tracking redirect gives the address it carries."""
    original = original_link(entry)
    if original:
        return original
    alternates = [
        link
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    alternates.sort(key=lambda link: link.get("type", "text/html") != "text/html")
    return unwrapped(alternates[0]["href"] if alternates else entry.get("link", ""))


def _text(entry: Any, captions: frozenset[str]) -> str:
    """The fullest body: content (content:encoded, Atom content) before summary/description,
    skipping what is really a media caption, unless the content is shorter than the summary
    (a generator's placeholder such as Jekyll's `content`)."""
    contents = [
        part
        for part in entry.get("content", [])
        if part.get("value", "").strip() and plain(part["value"]) not in captions
    ]
    contents.sort(key=lambda part: "html" not in part.get("type", ""))
    summary = str(entry.get("summary", ""))
    summary_text = plain(summary)
    if summary_text in captions:
        summary, summary_text = "", ""
    if contents:
        body = str(contents[0]["value"])
        if len(plain(body)) >= len(summary_text):
            return body
    return summary


def _image(
    entry: Any,
    media: ItemMedia,
    text: str,
    title: str,
    base: Base,
    covers: frozenset[str] = frozenset(),
) -> Image | None:
    """The item's picture: the widest Media RSS image, a thumbnail, an image enclosure, the
    episode's artwork, a picture element some feeds invent (`<bigimage>`), else the first picture
    in the text. Never the channel's own cover, an icon, an ad or a share button."""
    inline = first_content_image(
        text, base, _proxy_hosts(entry), avoid=lambda url: _is_cover(url, covers)
    )

    def usable(candidate: Media | None) -> Media | None:
        if candidate is None or not candidate.url:
            return None
        url = base.image(candidate.url)
        if not url or _is_cover(url, covers) or is_junk_picture(url) or is_share_button(url):
            return None
        return None if is_icon(url, candidate.width, candidate.height) else candidate

    chosen = (
        _widest(filter(None, map(usable, media.contents)))
        or _widest(filter(None, map(usable, media.thumbnails)))
        or usable(_enclosure(entry, base))
        or usable(_itunes_image(entry, base))
        or _widest(filter(None, map(usable, media.extras)))
    )
    if chosen is None:
        if inline is None:
            return None
        chosen = Media(url=inline.url, width=inline.width, height=inline.height)
    url = base.image(chosen.url)
    if not url:
        return None
    if inline and _same_picture(inline, url):
        return make_image(
            url,
            title,
            alt=inline.alt,
            caption=chosen.caption or inline.caption,
            credit=chosen.credit,
            width=chosen.width or inline.width,
            height=chosen.height or inline.height,
        )
    return make_image(
        url,
        title,
        caption=chosen.caption,
        credit=chosen.credit,
        width=chosen.width,
        height=chosen.height,
    )


def _same_picture(inline: ContentImage, url: str) -> bool:
    return inline.url.split("?")[0] == url.split("?")[0]


def _widest(candidates: Iterable[Media]) -> Media | None:
    images = [media for media in candidates if media.url and media.is_image]
    return max(images, key=lambda media: media.width or 0) if images else None


def _enclosure(entry: Any, base: Base) -> Media | None:
    """An image enclosure; a picture file declared with a wrong type ("text/html") counts too,
    audio and video never do."""
    for enclosure in entry.get("enclosures", []):
        url = enclosure.get("href") or enclosure.get("url") or ""
        kind = enclosure.get("type", "").lower()
        if kind.startswith("image/"):
            return Media(url=base.image(url), type=kind)
        if has_image_extension(url) and not kind.startswith(("audio/", "video/")):
            return Media(url=base.image(url), medium="image")
    return None


def _itunes_image(entry: Any, base: Base) -> Media | None:
    """A podcast episode's own artwork (`itunes:image`), which feedparser files as `image`."""
    image = entry.get("image")
    url = base.image(image.get("href")) if isinstance(image, dict) else ""
    return Media(url=url, medium="image") if url else None


def _kicker(entry: Any, everywhere: frozenset[str] = frozenset()) -> str:
    """The item's first editorial category (see `digest.sources.kickers`), skipping podcast
    keywords and any category the feed puts on every item, which tells a reader nothing."""
    for tag in entry.get("tags", []):
        if tag.get("scheme") in KEYWORD_SCHEMES:
            continue
        term = plain(tag.get("term") or tag.get("label"))
        label = plain(tag.get("label")) if tag.get("term") else ""
        if term.casefold() in everywhere:
            continue
        if is_editorial(term, label, str(tag.get("scheme") or "")):
            return term
    return ""


def _on_every_item(entries: list[Any]) -> frozenset[str]:
    """Categories (folded) that a feed of three items or more puts on every one of them."""
    if len(entries) < EVERYWHERE_MIN_ITEMS:
        return frozenset()
    sets = [
        {plain(tag.get("term") or tag.get("label")).casefold() for tag in entry.get("tags", [])}
        for entry in entries
    ]
    return frozenset(set.intersection(*sets) - {""})


def _author(entry: Any) -> str:
    """The author's name (of an item, or of the feed); an RSS `<author>` holding only an e-mail
    address is not shown."""
    name = plain(entry.get("author_detail", {}).get("name") or entry.get("author"))
    return "" if "@" in name and " " not in name else name


def _not_text(fetched: Fetched) -> str:
    """What a body that is no kind of text is ("image/jpeg", "binary data"); "" for text."""
    kind = fetched.content_type
    if kind.startswith(("image/", "audio/", "video/", "font/")) or kind in BINARY_TYPES:
        return kind
    if b"\x00" in fetched.content[:1024]:
        return f"binary data ({kind})" if kind else "binary data"
    return ""


def _reason(error: object) -> str:
    text = str(error or "unreadable XML").strip().splitlines()[0]
    return text.removeprefix("<unknown>:")
