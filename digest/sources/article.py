"""Reading one article page into an `Article`: what its publisher says about it (JSON-LD
`NewsArticle` read by `jsonld`, OpenGraph, plain HTML), its headline, lead picture and main text
(`article_text`).

Metadata is trusted in that order because it is written for machines: a JSON-LD headline has no
" | Site name" tail, and its `ImageObject` names the caption and credit of the picture. Where
the metadata says nothing about a picture, the page's own `<figure>` showing that picture does.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from digest.http import Fetched
from digest.models import Image
from digest.sources.article_text import folded, from_prose, main_text
from digest.sources.items import (
    Base,
    absolute,
    first_content_image,
    is_web_url,
    make_image,
    parse_datetime,
    plain,
    to_int,
)
from digest.sources.jsonld import (
    id_or_url,
    json_ld_article,
    names_of,
    publisher_name,
    section_of,
    size_of,
    text_of,
)
from digest.sources.pictures import LAZY_SOURCES, is_junk_picture, name_words, shown_source
from digest.text import without_controls

CREDIT_CLASSES = re.compile(r"credit|copyright|photographer|attribution", re.I)
CAPTION_CLASSES = re.compile(r"caption", re.I)
CAPTION_LEVELS = 4
"""How far up from a picture its caption may sit (img → picture → link → figure wrapper)."""
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•»-]|--|::)\s+|\s*｜\s*|\s+：\s*")
_TAIL = re.compile(rf"{_TITLE_SEPARATORS.pattern}|\s+[(（\[【＜《〈]")
"""How a tail after the headline starts: a separator, or a bracket after a space."""
_BRACKETED_TAIL = re.compile(r"\s+[＜【《〈][^＜＞【】《》〈〉]+[＞】》〉]$")
_SITE_NAME_WORDS = 3
_AD_WORDS = frozenset(
    {
        "ad",
        "ads",
        "adsbygoogle",
        "adsense",
        "adserver",
        "adslot",
        "adunit",
        "advert",
        "advertisement",
        "advertising",
        "advertorial",
        "adverts",
        "anuncio",
        "anzeige",
        "dfp",
        "publicidad",
        "publicite",
        "pubblicita",
        "reklama",
        "sponsored",
        "werbung",
    }
)
"""Words of the class, id or alt of an ad slot or ad picture, in some languages."""
_ASIDE_WORDS = frozenset({"aside", "sidebar", "rail", "promo", "promos", "promotion"})
"""Words of the class or id of a sidebar or a promotion box, whose pictures are not the story's."""
_AD_ALTS = _AD_WORDS | {"banner", "advertising banner", "広告", "广告", "광고", "إعلان"}
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b")
_HOST_FILLERS = frozenset({"www", "m", "com", "net", "org", "co", "news", "edition", "en"})


@dataclass(frozen=True)
class Article:
    """What a page says about the article it shows; empty strings where it says nothing."""

    url: str
    title: str = ""
    text: str = ""
    description: str = ""
    image: Image | None = None
    author: str = ""
    published: dt.datetime | None = None
    section: str = ""
    site_name: str = ""
    canonical: str = ""
    declared: bool = False
    """Whether the page says it is an article (JSON-LD article type or `og:type` article)."""


def parse_html(fetched: Fetched) -> lxml_html.HtmlElement | None:
    """The page as an lxml tree, decoded by `Fetched.text` (header, XML declaration, meta)."""
    text = without_controls(fetched.text())
    if not text.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
    try:
        root = lxml_html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def read_article(fetched: Fetched) -> Article:
    """The article of a fetched page: metadata, lead image and main text."""
    root = parse_html(fetched)
    if root is None:
        return Article(url=fetched.url)
    return article_from_tree(root, fetched)


def article_from_tree(root: lxml_html.HtmlElement, fetched: Fetched) -> Article:
    base = Base(url=fetched.url)
    ld = json_ld_article(root, fetched.url)
    meta = _meta(root)
    site_name = plain(meta.get("og:site_name")) or plain(publisher_name(ld))
    title = _title(root, ld, meta, site_name, urlsplit(fetched.url).hostname or "")
    image = _ld_image(ld, base, title) or _meta_image(meta, base, title) or _body_image(root, base)
    if image is not None:
        image = _with_figure(image, title, root, base)
    text = from_prose(main_text(root), title) or plain(ld.get("articleBody"))
    return Article(
        url=fetched.url,
        title=title,
        text=text,
        description=plain(ld.get("description") or meta.get("og:description"))
        or plain(meta.get("description") or meta.get("twitter:description")),
        image=image,
        author=names_of(ld.get("author")) or _meta_author(meta),
        published=parse_date(ld.get("datePublished"))
        or parse_date(meta.get("article:published_time"))
        or parse_date(root.xpath("string(//time[@datetime][1]/@datetime)")),
        section=section_of(ld.get("articleSection")) or plain(meta.get("article:section")),
        site_name=site_name,
        canonical=_canonical(root, meta, base),
        declared=bool(ld) or meta.get("og:type", "").lower() == "article",
    )


def _title(
    root: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, str], site_name: str, host: str
) -> str:
    """The headline: from the metadata, without a site-name tail, in the words and typography
    the page's <h1> shows; else the <h1> the <title> starts with, the first <h1>, or the <title>
    without its tail."""
    found = (
        plain(ld.get("headline"))
        or plain(ld.get("name"))
        or plain(meta.get("og:title") or meta.get("twitter:title"))
    )
    if found:
        found = _without_site_name(found, site_name, host)
        return _shown(found, root) or found
    title = _without_site_name(_first_text(root, "//title"), site_name, host)
    return _shown(title, root) or _first_text(root, "//h1") or title


def _shown(title: str, root: lxml_html.HtmlElement) -> str:
    """The <h1> that is `title` in other typography (’ for '), or the <h1> or its first line
    (above a <br> and a byline) that `title` starts with before a tail (" | Section",
    " （写真＝ロイター） ：日本経済新聞"), when that is at least half of `title`; "" if none."""
    for h1 in root.iter("h1"):
        whole = plain(h1.text_content())
        if whole and folded(whole) == folded(title):
            return whole
        first_line = plain(re.split(r"<br\b[^>]*>", lxml_html.tostring(h1, encoding="unicode"))[0])
        for shown in (whole, first_line):
            if (
                shown
                and 2 * len(shown) >= len(title)
                and title.startswith(shown)
                and _TAIL.match(title, len(shown))
            ):
                return shown
    return ""


def _ld_image(ld: dict[str, Any], base: Base, title: str) -> Image | None:
    value = ld.get("image") or ld.get("thumbnailUrl")
    for one in value if isinstance(value, list) else [value]:
        image = _ld_one_image(one, base, title)
        if image is not None:
            return image
    return None


def _ld_one_image(value: object, base: Base, title: str) -> Image | None:
    if isinstance(value, str):
        url = base.image(value)
        return make_image(url, title) if url and not is_junk_picture(url) else None
    if not isinstance(value, dict):
        return None
    url = base.image(id_or_url(value.get("url")) or id_or_url(value.get("contentUrl")))
    if not url or is_junk_picture(url):
        return None
    return make_image(
        url,
        title,
        caption=text_of(value.get("caption")) or text_of(value.get("description")),
        credit=text_of(value.get("creditText"))
        or names_of(value.get("copyrightHolder"))
        or names_of(value.get("author")),
        width=size_of(value.get("width")),
        height=size_of(value.get("height")),
    )


def parse_date(value: object) -> dt.datetime | None:
    """An ISO 8601 date-time, or a bare date taken as midnight UTC."""
    moment = parse_datetime(value)
    if moment is None and isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    return moment


# --- OpenGraph and plain HTML ----------------------------------------------------------------


def _meta(root: lxml_html.HtmlElement) -> dict[str, str]:
    """`<meta property|name=… content=…>` by lower-case key, the first of each kept."""
    found: dict[str, str] = {}
    for element in root.xpath("//meta[@content]"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        if key and key not in found and element.get("content", "").strip():
            found[key] = element.get("content", "").strip()
    return found


def _body_image(root: lxml_html.HtmlElement, base: Base) -> Image | None:
    """With no picture in the metadata: the first picture in the block holding the headline
    and the prose (never one from the header, a sidebar or an ad slot elsewhere), at the address
    a lazy loader shows; never an ad or a placeholder."""
    for h1 in root.iter("h1"):
        box = next((up for up in h1.iterancestors() if len(up.findall(".//p")) >= 2), None)
        if box is None:
            return None
        markup = lxml_html.tostring(_pictures_shown(box, base), encoding="unicode")
        found = first_content_image(markup, base)
        return found.to_image(plain(h1.text_content())) if found else None
    return None


def _pictures_shown(box: lxml_html.HtmlElement, base: Base) -> lxml_html.HtmlElement:
    """A copy of `box` whose `<img>`s are the pictures it shows, each with its address in `src`:
    the real one a lazy loader puts there (`data-src`, `data-original`, `srcset` behind a
    `Blank.gif` or `data:` placeholder); without ads, placeholders, pictures in a sidebar or a
    promotion box, and pictures with no address."""
    box = copy.deepcopy(box)
    for img in list(box.iter("img")):
        url = base.image(shown_source(img))
        if not url or is_junk_picture(url) or _beside_story(img):
            img.drop_tree()
        else:
            img.set("src", url)
    return box


def _beside_story(img: lxml_html.HtmlElement) -> bool:
    """Whether `img` says it is an ad (alt "Publicidad", "Advertisement") or sits, below the top
    of its copy, in an ad slot (class or id `ad-slot`, `adsbygoogle`, `dfp-ad`), a sidebar or a
    promotion box (`<aside>`, `right-rail`, `AsidePromo`) that does not hold the headline (an
    `article-with-ads` or a `main-rail` does)."""
    alt = unicodedata.normalize("NFKD", plain(img.get("alt")).casefold())
    if "".join(char for char in alt if not unicodedata.combining(char)) in _AD_ALTS:
        return True
    for element in (img, *img.iterancestors()):
        if element.getparent() is None:
            return False
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        words = set(name_words(names))
        beside = element.tag == "aside" or words & (_AD_WORDS | _ASIDE_WORDS)
        if beside and element.find(".//h1") is None:
            return True
    return False


def _canonical(root: lxml_html.HtmlElement, meta: dict[str, str], base: Base) -> str:
    links = root.xpath(
        "//link[@href][contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]"
    )
    for value in (*(link.get("href") for link in links), meta.get("og:url")):
        url = absolute(value, base.url)
        if is_web_url(url):
            return url
    return ""


def feed_links(root: lxml_html.HtmlElement, base: Base) -> list[str]:
    """Feeds a page announces (`<link rel="alternate" type="application/rss+xml">` and kin)."""
    kinds = ("application/rss+xml", "application/atom+xml", "application/feed+json")
    return [
        url
        for link in root.xpath("//link[@href][@type]")
        if "alternate" in (link.get("rel") or "").lower().split()
        and link.get("type", "").strip().lower() in kinds
        and is_web_url(url := absolute(link.get("href"), base.url))
    ]


def _meta_image(meta: dict[str, str], base: Base, title: str) -> Image | None:
    secure = meta.get("og:image:secure_url", "")
    candidates = (
        secure if secure.startswith("https://") else "",
        meta.get("og:image", ""),
        meta.get("og:image:url", ""),
        meta.get("twitter:image", ""),
        meta.get("twitter:image:src", ""),
    )
    url = next(
        (
            found
            for value in candidates
            if (found := base.image(value)) and not is_junk_picture(found)
        ),
        "",
    )
    if not url:
        return None
    return make_image(
        url,
        title,
        alt=meta.get("og:image:alt") or meta.get("twitter:image:alt") or "",
        width=meta.get("og:image:width"),
        height=meta.get("og:image:height"),
    )


def _meta_author(meta: dict[str, str]) -> str:
    for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator"):
        name = plain(meta.get(key))
        if name and not name.startswith(("http://", "https://")):
            return name
    return ""


def _first_text(root: lxml_html.HtmlElement, path: str) -> str:
    for element in root.xpath(path):
        text = plain(element.text_content())
        if text:
            return text
    return ""


def _without_site_name(title: str, site_name: str, host: str) -> str:
    """ "Headline | Site" → "Headline" when the tail names the site (its name, or the name in its
    host: "CNN.com" on www.cnn.com); a tail in Japanese brackets ("Headline ＜Site＞") always."""
    title = _BRACKETED_TAIL.sub("", title) or title
    separators = list(_TITLE_SEPARATORS.finditer(title))
    if separators and _names_site(title[separators[-1].end() :], site_name, host):
        return title[: separators[-1].start()]
    return title


def _names_site(tail: str, site_name: str, host: str) -> bool:
    """Whether `tail` is the site's name; or, when it is a few words only, the first words of
    the other ("CNN Politics" for "CNN", "日本経済新聞" for "日本経済新聞 電子版") or a domain
    name holding a word of the host's ("ประชาไท Prachatai.com" on prachatai.com)."""
    words, site = folded(tail), folded(site_name)
    if words and words == site:
        return True
    if not words or len(words.split()) > _SITE_NAME_WORDS:
        return False
    if site and (words.startswith(site + " ") or site.startswith(words + " ")):
        return True
    domain = _DOMAIN.search(tail.lower())
    labels = [label for label in host.lower().split(".") if label not in _HOST_FILLERS]
    return bool(domain) and any(len(label) >= 3 and label in domain[0] for label in labels)


def _with_figure(image: Image, title: str, root: lxml_html.HtmlElement, base: Base) -> Image:
    """Caption, credit, alt and size from the `<img>` (and its figure) showing this picture."""
    img = img_showing(image.url, root, base)
    if img is None:
        return image
    caption, credit = figure_caption(img)
    caption = image.caption or caption
    alt = plain(img.get("alt")) if image.alt in (title, image.caption) else image.alt
    return image.model_copy(
        update={
            "caption": caption,
            "credit": image.credit or credit,
            "alt": alt or caption or title,
            "width": image.width or to_int(img.get("width")),
            "height": image.height or to_int(img.get("height")),
        }
    )


def img_showing(url: str, root: lxml_html.HtmlElement, base: Base) -> lxml_html.HtmlElement | None:
    """The `<img>` showing the same file as `url` (same path; sizes in the query may differ)."""
    wanted = urlsplit(url).path
    for img in root.iter("img"):
        sources = [img.get(name) or "" for name in ("src", *LAZY_SOURCES)]
        sources += [
            part.split()[0]
            for name in ("srcset", "data-srcset", "data-lazy-srcset")
            for part in (img.get(name) or "").split(",")
            if part.split()
        ]
        if any(source and urlsplit(base.image(source)).path == wanted for source in sources):
            return img
    return None


def figure_caption(img: lxml_html.HtmlElement) -> tuple[str, str]:
    """(caption, credit) shown with `img`: from the nearest wrapper (a `<figure>`, a caption box,
    or a few levels up, short of a wrapper holding another picture) that has a caption or
    credit. The credit is the element whose class says credit/copyright; the caption the rest."""
    for level, box in enumerate(img.iterancestors()):
        if level >= CAPTION_LEVELS or _pictures(box) > 1:
            break
        captions = box.findall(".//figcaption") or _by_class(box, CAPTION_CLASSES)
        credits = _by_class(box, CREDIT_CLASSES)
        if captions or credits:
            credit = plain(credits[0].text_content()) if credits else ""
            caption = plain(captions[0].text_content()) if captions else ""
            if credit and caption.endswith(credit):
                caption = caption[: -len(credit)].rstrip(" ,;:|–—-/")
            return ("" if caption == credit else caption), credit
        if box.tag == "figure":
            break
    return "", ""


def _pictures(box: lxml_html.HtmlElement) -> int:
    return len({img.get("src") or img.get("data-src") or id(img) for img in box.iter("img")})


def _by_class(box: lxml_html.HtmlElement, pattern: re.Pattern[str]) -> list[lxml_html.HtmlElement]:
    return [
        element
        for element in box.iter()
        if isinstance(element.tag, str)
        and element is not box
        and element.tag not in ("img", "picture", "source")
        and pattern.search(element.get("class") or "")
    ]
