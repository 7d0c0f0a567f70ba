"""Which address of an `<img>` is a story's picture: the one a lazy loader shows, and never an
ad server's, a tracking pixel or a placeholder. Shared by feed items, page rails and articles."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html

TRACKERS = (
    "feeds.feedburner.com/~",
    "gravatar.com/avatar/",  # a commenter's or author's face, not the story's picture
    "/images/core/emoji/",  # WordPress's emoji images (s.w.org)
    "pixel.wp.com/",
    "stats.wordpress.com/",
    "doubleclick.net/",
    "/piwik.php",
    "/matomo.php",
    "idsite=",  # Matomo's counting pixel, wherever it is installed
)
LAZY_SOURCES = ("data-src", "data-lazy-src", "data-original")

_AD_URL = re.compile(
    r"^[a-z]+://(?:[^/?#]*[.-])?"
    r"(?:ads?|adserver|adservice|adsystem|adnxs|banners?|doubleclick|googlesyndication)[.-]"
    r"|/(?:ads?|adserver|adverts?|advertising|advertisement|banners|pagead|publicidad|werbung)/"
    r"|/(?:avw|ajs|adview|adimage|adframe)\.php\b",
    re.IGNORECASE,
)
"""The address of a picture an ad server delivers: on an ad host (`ads.`, `banners.`,
doubleclick), in an ad folder (`/ads/`), or from Revive/OpenX's `avw.php`."""
_PLACEHOLDER_NAMES = frozenset(
    {"blank", "spacer", "placeholder", "lazyload", "preload", "preloader", "spinner"}
)
_PLACEHOLDER_ONLY_NAMES = _PLACEHOLDER_NAMES | {
    "pixel",
    "transparent",
    "trans",
    "clear",
    "empty",
    "shim",
    "lazy",
    "loading",
    "loader",
}
"""Words of a file name that is a placeholder when they are all it says (`pixel.gif`, but not
`pixel-8-pro.jpg`); the words above make it one wherever they are (`Blank.gif`,
`grey-placeholder.png`)."""
_ONE_PIXEL = re.compile(r"(?<!\d)1x1(?!\d)", re.IGNORECASE)
_FEED_PROXY_CODE = re.compile(r"/~(?:[a-z]{1,2}|\d)/", re.IGNORECASE)
"""FeedBurner's (and its MyBrand domains') ads, flares and counters: `/~a/`, `/~c/`, `/~ff/`,
`/~r/…/~4/`; never a person's `/~name/` folder."""
_SHARE_WORDS = frozenset(
    {
        "share",
        "sharethis",
        "addthis",
        "sharing",
        "bookmark",
        "digg",
        "delicious",
        "stumbleupon",
        "tweet",
        "facebook",
        "twitter",
        "linkedin",
        "pinterest",
        "whatsapp",
        "reddit",
        "subscribe",
        "rss",
        "feedicon",
        "button",
        "badge",
    }
)
_SHARE_ALT = re.compile(
    r"^\s*(?:add\s+to|share\b|shar(?:e|ing)\s+on|post\s+to|digg\b|tweet\b|email\s+this|e-mail\s+this|"
    r"bookmark\b|subscribe\b|follow\s+(?:us|me)\b|like\s+us\b|print\s+this|save\s+to)",
    re.IGNORECASE,
)
_ICON_WORDS = frozenset({"icon", "icons", "logo", "logos", "avatar", "favicon", "emoji", "sprite"})
ICON_SIDE = 100
"""A picture declared at most this wide and tall is an icon or a logo, not a story's picture."""
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|heic|tiff?|bmp)\s*$", re.IGNORECASE)
_CAMERA_NAME = re.compile(
    r"^(?:img|dsc[fn]?|dcim|pxl|gopr|mvimg|photo|pic|image|screen ?shot|screenshot|p)"
    r"[-_ ]?\d[\d_-]*(?:\s*\(\d+\))?$|^\d{6,}(?:[-_]\d+)*$",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def shown_source(img: lxml_html.HtmlElement) -> str:
    """The address of the picture an `<img>` shows once loaded: a lazy loader's (`data-src`,
    `data-lazy-src`, `data-original`, `data-srcset`), else `src` unless it is a placeholder, else
    the first of `srcset`; "" when it names none."""
    lazy = [img.get(name) for name in LAZY_SOURCES]
    lazy += [_first_of_srcset(img.get(name)) for name in ("data-lazy-srcset", "data-srcset")]
    src = (img.get("src") or "").strip()
    for value in (*lazy, "" if _is_placeholder(src) else src, _first_of_srcset(img.get("srcset"))):
        value = (value or "").strip()
        if value and not value.startswith("data:"):
            return value
    return ""


def _first_of_srcset(value: str | None) -> str:
    first = (value or "").split(",")[0].split()
    return first[0] if first else ""


def is_junk_picture(url: str) -> bool:
    """Whether `url` is no picture of a story: an ad server's or a feed proxy's, a tracking
    pixel, an avatar or an emoji, or a placeholder (blank.gif, spacer.gif, 1x1, a `data:` URI)."""
    return (
        bool(_AD_URL.search(url))
        or any(marker in url for marker in TRACKERS)
        or bool(_FEED_PROXY_CODE.search(urlsplit(url).path))
        or _is_placeholder(url)
    )


def is_share_button(url: str, alt: str = "") -> bool:
    """Whether a picture is a "share on …" or "subscribe" button: said by its alt text ("Add to
    Facebook", "Share on Twitter", "Email this") or by its file name (`share-facebook.png`)."""
    if _SHARE_ALT.match(alt):
        return True
    stem = PurePosixPath(unquote(urlsplit(url).path)).name.rsplit(".", 1)[0]
    return bool(_SHARE_WORDS & set(name_words(stem)))


def is_icon(url: str, width: int | None = None, height: int | None = None) -> bool:
    """Whether a picture is an icon or a logo: its file name says so (`app-icon.png`,
    `simpledb_logo.png`) or it is declared at most ICON_SIDE pixels each way."""
    if width and height and width <= ICON_SIDE and height <= ICON_SIDE:
        return True
    stem = PurePosixPath(unquote(urlsplit(url).path)).name.rsplit(".", 1)[0]
    return bool(_ICON_WORDS & set(name_words(stem)))


def is_file_name(text: str) -> bool:
    """Whether a picture's alt or caption is only its file or camera name ("DSC_4550",
    "IMG_0642", "2009_08_pubadv.jpg", "WeekInReview_thumb_thumb[2]", "gta-v-logo1"), which
    says nothing to a reader: CMSs fill these fields with it when the author did not."""
    value = " ".join(text.split())
    if not value:
        return False
    if _IMAGE_FILE.search(value) or _CAMERA_NAME.match(value):
        return True
    if " " in value:
        # A copy's number left on a name with spaces: "wedding presents-1", "screen_500 (1)".
        return bool(re.search(r"[a-z][-_]\d{1,2}$|\S\s*\(\d{1,2}\)$", value, re.IGNORECASE))
    # One token joined by - or _ (a slug), or with digits run into letters, is a file's name.
    return bool(re.search(r"[_-]", value) or re.search(r"[a-z]\d|\d[a-z]|\[\d+\]", value, re.I))


def _is_placeholder(url: str) -> bool:
    if url.startswith("data:"):
        return True
    stem = PurePosixPath(unquote(urlsplit(url).path)).name.split(".")[0]
    if _ONE_PIXEL.search(stem):
        return True
    words = name_words(stem)
    named = [word for word in words if not word.isdigit()]
    return any(word in _PLACEHOLDER_NAMES for word in words) or bool(
        named and all(word in _PLACEHOLDER_ONLY_NAMES for word in named)
    )


def name_words(name: str) -> list[str]:
    """The words of a file name, class or id, lower-cased: `article-sns` → article, sns;
    `shareBar` → share, bar; `spacer1x1` → spacer, 1, x, 1."""
    return [word.lower() for word in _NAME_WORD.findall(name)]


_CREDIT = re.compile(
    r"(?:^|(?<=[\s.;,|(\[]))(?P<credit>(?:©|\(c\)\s|copyright\s+(?:©|\(c\)|\d{4}|by\s)|"
    r"(?:photo(?:graph)?s?|pictures?|images?|foto(?:s|grafie)?|bild(?:er)?|credits?|crédits?)"
    r"(?:\s*:|\s+(?:by|von|de|par|di)\s))\s*\S.*)$",
    re.IGNORECASE,
)


def split_credit(caption: str) -> tuple[str, str]:
    """A caption that ends with its picture's credit, split: "On an Abandoned Land © stadtacker"
    → ("On an Abandoned Land", "© stadtacker"); "Photo by Steve Govoni" is all credit. Captions
    without a credit come back whole, with no credit."""
    text = " ".join(caption.split())
    match = _CREDIT.search(text)
    if match is None:
        return text, ""
    before = text[: match.start("credit")].rstrip(" -–—|,;:([")
    credit = match["credit"].strip()
    if text[: match.start("credit")].rstrip().endswith(("(", "[")):
        credit = credit.rstrip(")]").strip()
    return before, credit
