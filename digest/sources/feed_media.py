"""A feed item's pictures as Media RSS and its unofficial cousins describe them.

feedparser files `media:description` and `media:title` as if they were the item's own description
and title, and loses which credit goes with which picture. So the items' media elements are read
from the XML with lxml, item by item, and matched to feedparser's entries by position.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from digest.sources.items import has_image_extension, is_web_url, plain, to_int

MEDIA_NAMESPACES = frozenset({"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"})

ITEM_NAMESPACES = frozenset(
    {
        None,
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://www.w3.org/2005/Atom",
        "http://purl.org/atom/ns#",
    }
)

OTHER_PICTURE_TAGS = ("bigimage", "image", "picture", "photo", "img", "thumbnail", "thumb")
"""Item elements outside any standard that some feeds put their pictures in, biggest first."""

_OTHER_PICTURE_TAG = re.compile(rb"<(?:bigimage|picture|photo|img|thumbnail|thumb|image)[\s>]")


@dataclass(frozen=True)
class Media:
    """One Media RSS picture candidate with the caption and credit that belong to it."""

    url: str
    width: int | None = None
    height: int | None = None
    type: str = ""
    medium: str = ""
    caption: str = ""
    credit: str = ""

    @property
    def is_image(self) -> bool:
        if self.type or self.medium:
            return self.type.startswith("image/") or self.medium == "image"
        return has_image_extension(self.url)


@dataclass(frozen=True)
class ItemMedia:
    """What an item's Media RSS elements hold; `captions` also keep them out of the text.

    `description` is a `media:description` of the item itself (or its `media:group`), not of
    one picture: YouTube puts a video's whole description there and nothing anywhere else.
    """

    contents: list[Media] = field(default_factory=list)
    thumbnails: list[Media] = field(default_factory=list)
    extras: list[Media] = field(default_factory=list)
    """Pictures in elements outside any standard (`<bigimage>`, `<image>` or `<thumbnail>` in
    an item), biggest first."""
    captions: frozenset[str] = frozenset()
    description: str = ""

    def as_text(self) -> ItemMedia:
        """These media with `description` used as the item's text, so no picture carries it
        as a caption."""
        wanted = plain(self.description)

        def uncaptioned(medias: list[Media]) -> list[Media]:
            return [
                dataclasses.replace(m, caption="") if m.caption == wanted else m for m in medias
            ]

        return dataclasses.replace(
            self, contents=uncaptioned(self.contents), thumbnails=uncaptioned(self.thumbnails)
        )


def feedparser_media(entry: Any) -> ItemMedia:
    """Media RSS as feedparser keeps it, for when lxml cannot line the XML up with the entries."""
    credits = entry.get("media_credit", [])
    credit = plain(credits[0].get("content")) if credits else ""

    def medias(key: str) -> list[Media]:
        return [
            Media(
                url=item.get("url", ""),
                width=to_int(item.get("width")),
                height=to_int(item.get("height")),
                type=item.get("type", ""),
                medium=item.get("medium", ""),
                credit=credit,
            )
            for item in entry.get(key, [])
        ]

    return ItemMedia(contents=medias("media_content"), thumbnails=medias("media_thumbnail"))


def media_by_item(content: bytes, count: int) -> list[ItemMedia] | None:
    """Media RSS per item in document order; None when it does not line up with feedparser."""
    if b"search.yahoo.com/mrss" not in content and not _OTHER_PICTURE_TAG.search(content):
        return None
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    items = [
        element
        for element in root.iter()
        if _name(element)[1] in ("item", "entry") and _name(element)[0] in ITEM_NAMESPACES
    ]
    if len(items) != count:
        return None
    try:
        return [_item_media(item) for item in items]
    except ValueError:  # text libxml2 kept but cannot hand over (UnicodeDecodeError)
        return None


def _item_media(item: etree._Element) -> ItemMedia:
    contents: list[Media] = []
    thumbnails: list[Media] = []

    descriptions: list[str] = []

    def collect(holder: etree._Element, caption: str, credit: str) -> None:
        descriptions.extend(
            _text_content(child).strip() for child in _media_children(holder, "description")
        )
        caption = _caption_of(holder) or caption
        credit = _media_text(holder, "credit") or credit
        for child in _media_children(holder, "content"):
            contents.append(_media(child, _caption_of(child) or caption, credit))
            for nested in _media_children(child, "thumbnail"):
                thumbnails.append(_media(nested, caption, credit))
        for child in _media_children(holder, "thumbnail"):
            thumbnails.append(_media(child, caption, credit))
        for group in _media_children(holder, "group"):
            collect(group, caption, credit)

    collect(item, "", "")
    captions = frozenset(
        plain(_text_content(element))
        for element in item.iter()
        if _is_media(element) and _name(element)[1] in ("description", "title")
    )
    return ItemMedia(
        contents=contents,
        thumbnails=thumbnails,
        extras=_other_pictures(item),
        captions=captions - {""},
        description=next((text for text in descriptions if text), ""),
    )


def _other_pictures(item: etree._Element) -> list[Media]:
    """Pictures an item names in elements no standard has (`<bigimage>`, `<image>`,
    `<thumbnail>`): as the element's text, its `url`/`href`/`src`, or an `<url>` inside it."""
    found: list[tuple[int, Media]] = []
    for child in item:
        namespace, name = _name(child)
        if namespace is not None or name.lower() not in OTHER_PICTURE_TAGS:
            continue
        nested = next((_text_content(part) for part in child if _name(part)[1] == "url"), "")
        values = (child.get("url"), child.get("href"), child.get("src"), nested, child.text)
        url = next((value.strip() for value in values if value and is_web_url(value.strip())), "")
        if url:
            rank = OTHER_PICTURE_TAGS.index(name.lower())
            media = Media(
                url=url, width=to_int(child.get("width")), height=to_int(child.get("height"))
            )
            found.append((rank, media))
    return [media for _, media in sorted(found, key=lambda pair: pair[0])]


def _media(element: etree._Element, caption: str, credit: str) -> Media:
    return Media(
        url=(element.get("url") or "").strip(),
        width=to_int(element.get("width")),
        height=to_int(element.get("height")),
        type=(element.get("type") or "").lower(),
        medium=(element.get("medium") or "").lower(),
        caption=caption,
        credit=_media_text(element, "credit") or credit,
    )


def _caption_of(element: etree._Element) -> str:
    return _media_text(element, "description") or _media_text(element, "title")


def _media_text(element: etree._Element, name: str) -> str:
    for child in _media_children(element, name):
        text = plain(_text_content(child))
        if text:
            return text
    return ""


def _media_children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element if _is_media(child) and _name(child)[1] == name)


def _is_media(element: etree._Element) -> bool:
    return _name(element)[0] in MEDIA_NAMESPACES


def _name(element: etree._Element) -> tuple[str | None, str]:
    """An element's namespace and local name ("" for a comment or processing instruction), read
    from its tag: lxml's QName refuses the `media:content` that broken XML leaves when the prefix
    was never declared, which is Media RSS all the same (feedparser reads it so too)."""
    tag = element.tag
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    prefix, colon, local = tag.partition(":")
    if colon and prefix == "media":
        return "http://search.yahoo.com/mrss/", local
    return None, tag


def _text_content(element: etree._Element) -> str:
    return "".join(element.itertext())
