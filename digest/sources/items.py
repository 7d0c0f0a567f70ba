"""Helpers every kind of source shares to turn what a publisher wrote into clean `Story` fields."""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html
from pydantic import ValidationError

from digest.models import Image
from digest.sources.pictures import (
    is_file_name,
    is_icon,
    is_junk_picture,
    is_share_button,
    shown_source,
    split_credit,
)
from digest.text import html_to_text

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"})
MIN_IMAGE_SIDE = 50
"""Images declared smaller than this are icons, share buttons or tracking pixels."""
TITLE_WORDS = 12
LONG_TITLE_WORDS = 18
MIN_CLAUSE_WORDS = 4
SHOUTING_LETTERS = 8
"""A title of capitals only, with at least this many letters, is shouted; shorter ones are
acronyms and labels ("BBC", "NASA TV")."""
SMALL_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "or",
        "over",
        "per",
        "the",
        "to",
        "via",
        "vs",
        "with",
    }
)
TRACKING_PARAMS = frozenset({"fbclid", "gclid"})
"""Click identifiers that name no page, besides the campaign parameters `utm_*`."""

_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")
_CLAUSE_BREAK = re.compile(r"(?:[,;:]|\s[—–-])\s(?!.*(?:[,;:]|\s[—–-])\s)")
"""The last clause break in a text: a comma, semicolon or colon, or a dash between spaces."""
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
_CAPITALISED = re.compile(r"^([^\w]*)(\w)")
_SUBTAG = re.compile(r"[A-Za-z0-9]{2,8}")


def plain(value: object) -> str:
    """Text of a title-like field: tags dropped, entities decoded (twice when a publisher
    escaped them twice, as in `&amp;#8217;`), white space folded."""
    if not isinstance(value, str):
        return ""
    text = html_to_text(value)
    if _ENTITY.search(text):
        text = html_to_text(html.unescape(text))
    return text


def language_tag(value: object) -> str:
    """A declared language as a BCP 47 tag in its usual case ("en-us" → "en-US", "EN" → "en",
    "pt_BR" → "pt-BR"); "" for nothing or for what is no language tag."""
    if not isinstance(value, str):
        return ""
    parts = value.strip().replace("_", "-").split("-")
    if not _LANGUAGE.fullmatch(parts[0]) or not all(_SUBTAG.fullmatch(part) for part in parts[1:]):
        return ""
    subtags = [
        part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower()
        for part in parts[1:]
    ]
    return "-".join([parts[0].lower(), *subtags])


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def absolute(url: object, base: str) -> str:
    """`url` resolved against `base`; empty when there is no URL."""
    if not isinstance(url, str) or not url.strip():
        return ""
    return urljoin(base, url.strip()) if base else url.strip()


@dataclass(frozen=True)
class Base:
    """Where a source's relative addresses point. `url` is the source itself (after redirects,
    or a `file://` URI); `site` is the web site it speaks for (a feed's channel link); `declared`
    is the address the source says it is served from (a feed's `self` link)."""

    url: str
    site: str = ""
    declared: str = ""

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file:")

    @property
    def _web_site(self) -> str:
        return self.site if self.is_local and is_web_url(self.site) else ""

    def link(self, value: object) -> str:
        """A story link: a local copy of a feed has no URL of its own, so its relative links
        are relative to the site it copies, else to where it says it is served from."""
        declared = self.declared if self.is_local and is_web_url(self.declared) else ""
        return absolute(value, self._web_site or declared or self.url)

    def image(self, value: object) -> str:
        """An image's absolute URL, or "" when it cannot be shown: http(s) images, plus images
        next to a local source as `file://` URIs (never `data:`, nor a remote source pointing
        into the reader's disk). A root-relative `/x.jpg` in a local copy is on the web site."""
        text = value.strip() if isinstance(value, str) else ""
        root_relative = text.startswith("/") and not text.startswith("//")
        url = absolute(text, self._web_site if root_relative and self._web_site else self.url)
        if is_web_url(url) or (self.is_local and url.startswith("file:")):
            return url
        return ""


def has_image_extension(url: str) -> bool:
    return PurePosixPath(urlsplit(url).path).suffix.lower() in IMAGE_EXTENSIONS


def to_int(value: object) -> int | None:
    """A positive pixel size from an attribute such as "1800", "460px" or 460.0."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = int(value)
    elif isinstance(value, str) and (digits := re.match(r"\s*(\d+)", value)):
        number = int(digits.group(1))
    else:
        return None
    return number if number > 0 else None


def make_image(
    url: str,
    title: str,
    *,
    alt: str = "",
    caption: str = "",
    credit: str = "",
    width: object = None,
    height: object = None,
) -> Image:
    """An `Image` whose alt falls back to the caption, then the title: the email needs one. A
    file or camera name is no alt text nor caption, and a credit at the end of a caption (or
    a caption that is only a credit) goes to `credit`."""
    caption, credit = plain(caption), plain(credit)
    caption = "" if is_file_name(caption) else caption
    if not credit:
        caption, credit = split_credit(caption)
    alt = plain(alt)
    if is_file_name(alt) or (alt and not split_credit(alt)[0]):
        alt = ""
    return Image(
        url=url,
        alt=alt or caption or title,
        caption=caption,
        credit=credit,
        width=to_int(width),
        height=to_int(height),
    )


@dataclass(frozen=True)
class ContentImage:
    """The first real picture inside an item's HTML, with the caption of the figure holding it."""

    url: str
    alt: str
    caption: str
    width: int | None
    height: int | None

    def to_image(self, title: str) -> Image:
        return make_image(
            self.url,
            title,
            alt=self.alt,
            caption=self.caption,
            width=self.width,
            height=self.height,
        )


def first_content_image(
    markup: str,
    base: Base,
    proxy_hosts: frozenset[str] = frozenset(),
    avoid: Callable[[str], bool] = lambda url: False,
) -> ContentImage | None:
    """The first `<img>` in `markup` that is a picture: not a tracking pixel, an ad, a share
    button, nor an icon or a logo (an app's icon above the screenshot of it), nor anything a
    feed proxy serves from `proxy_hosts` (its ads and flares), nor one the caller would `avoid`
    (a channel's cover, a banner every story carries)."""
    if not markup or "<img" not in markup.lower():
        return None
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises several types on broken markup; no image then
        return None
    for img in root.iter("img"):
        width, height = to_int(img.get("width")), to_int(img.get("height"))
        if any(side is not None and side < MIN_IMAGE_SIDE for side in (width, height)):
            continue
        url = base.image(shown_source(img))
        alt = plain(img.get("alt"))
        if not url or is_junk_picture(url) or is_share_button(url, alt):
            continue
        if (urlsplit(url).hostname or "") in proxy_hosts or avoid(url):
            continue
        if is_icon(url, width, height):
            continue
        return ContentImage(url=url, alt=alt, caption=_caption(img), width=width, height=height)
    return None


def _caption(img: lxml_html.HtmlElement) -> str:
    """Caption from `<figure><figcaption>` or WordPress's classic `wp-caption` box."""
    for ancestor in img.iterancestors():
        if ancestor.tag == "figure":
            captions = ancestor.findall(".//figcaption")
            return plain(lxml_html.tostring(captions[0], encoding="unicode")) if captions else ""
        if "wp-caption" in (ancestor.get("class") or "").split():
            texts = ancestor.xpath(".//*[contains(@class, 'wp-caption-text')]")
            return plain(lxml_html.tostring(texts[0], encoding="unicode")) if texts else ""
    return ""


def title_from_text(text: str) -> str:
    """A headline for an untitled item (microblogs, JSON Feed): its first sentence, whole when it
    has at most LONG_TITLE_WORDS words (a long headline beats one cut mid-sentence); a longer one
    is cut at its last clause break (",", ";", ":", "—") within TITLE_WORDS words, else after
    TITLE_WORDS words, and ends with "…"."""
    words = plain(text)
    first = _SENTENCE_END.split(words, maxsplit=1)[0]
    parts = first.split()
    if len(parts) <= LONG_TITLE_WORDS:
        return first
    head = " ".join(parts[:TITLE_WORDS])
    clause = _CLAUSE_BREAK.search(head)
    if clause and len(head[: clause.start()].split()) >= MIN_CLAUSE_WORDS:
        head = head[: clause.start()]
    return head.rstrip(",;:—–- ") + "…"


def all_skipped(skipped: list[tuple[str, str]]) -> str:
    """Why a feed whose every item was skipped gave no story, so the build does not go on to
    say there is nothing new: the commonest reason, with an example and how many items it cost."""
    commonest, count = Counter(reason for reason, _ in skipped).most_common(1)[0]
    example = next((example for reason, example in skipped if reason == commonest and example), "")
    shown = f"{commonest} (such as {example!r})" if example else commonest
    if count == len(skipped):
        return f"all {count} items skipped: {shown}"
    return f"all {len(skipped)} items skipped ({count}: {shown})"


def unshouted(title: str, language: str = "") -> str:
    """A title written all in capitals ("THE CREATIVE FORAGER") in title case ("The Creative
    Forager"), small words lower-case in English; any other title as it is. A word holding a
    digit keeps its capitals ("COVID-19", "4K"), and so does a title of one word ("NASA")."""
    cased = [char for char in title if char.isupper() or char.islower()]
    words = title.split()
    if len(cased) < SHOUTING_LETTERS or len(words) < 2 or any(c.islower() for c in cased):
        return title
    english = language.lower().split("-")[0] in ("", "en")

    def word_case(index: int, word: str) -> str:
        if any(char.isdigit() for char in word):
            return word
        lower = word.lower()
        if english and index > 0 and lower in SMALL_WORDS:
            return lower
        return _CAPITALISED.sub(lambda match: match[1] + match[2].upper(), lower, count=1)

    return " ".join(word_case(index, word) for index, word in enumerate(words))


def aware(moment: dt.datetime) -> dt.datetime:
    """A date without a zone is taken as UTC, so every `published` can be compared."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_datetime(value: object) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 date, or an RFC 822 one ("Sat, 07 Sep 2024 00:00:00 GMT", which
    JSON Feed generators copy from RSS); None when missing or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return aware(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        pass
    try:
        return aware(email.utils.parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError):
        return None


def describe(error: ValidationError, limit: int = 3) -> str:
    """Pydantic's report as one line of `path: problem`, e.g. `more[2].titel: unknown field`."""
    problems = []
    for item in error.errors()[:limit]:
        path = "".join(_path_part(part) for part in item["loc"]).lstrip(".")
        message = {"extra_forbidden": "unknown field", "missing": "required field missing"}.get(
            item["type"], item["msg"].removeprefix("Value error, ")
        )
        problems.append(f"{path}: {message}" if path else message)
    extra = error.error_count() - limit
    if extra > 0:
        problems.append(f"and {extra} more")
    return " ".join("; ".join(problems).split())


def _path_part(part: int | str) -> str:
    """One step of a field's path: `[2]`, `.title`, or a key a source wrote with line breaks or
    other unprintable characters quoted (`['ti\\ntle']`), so the message stays one line."""
    if isinstance(part, int):
        return f"[{part}]"
    return f".{part}" if part.isprintable() else f"[{part!r}]"


def tracking_free_query(query: str) -> list[tuple[str, str]]:
    """A URL query's parameters without campaign tracking (`utm_*`, fbclid, gclid)."""
    return [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in TRACKING_PARAMS
    ]


def without_tracking(url: str) -> str:
    """`url` without campaign tracking parameters; as written when it has none."""
    parts = urlsplit(url)
    kept = tracking_free_query(parts.query)
    if len(kept) == len(parse_qsl(parts.query, keep_blank_values=True)):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))
