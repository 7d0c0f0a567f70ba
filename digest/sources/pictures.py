"""Which address of an `<img>` is a story's picture: the one a lazy loader shows, and never an
ad server's, a tracking pixel or a placeholder. Shared by feed items, page rails and articles."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html

TRACKERS = (
    "feeds.feedburner.com/~",
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
    """Whether `url` is no picture of a story: an ad server's, a tracking pixel, or a
    placeholder (blank.gif, spacer.gif, pixel.gif, 1x1, a `data:` URI)."""
    return (
        bool(_AD_URL.search(url))
        or any(marker in url for marker in TRACKERS)
        or _is_placeholder(url)
    )


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
