"""Which of a publisher's categories may stand above a headline as its kicker: a section or a
topic ("Politics", "Kultur"), never a placeholder ("Uncategorized", "post"), a placement flag
("Most Popular"), a faceted value ("Age: Past Hour"), a directory path or a code identifier."""

from __future__ import annotations

import re

PLACEHOLDERS = frozenset(
    {
        "uncategorized",
        "uncategorised",
        "unkategorisiert",
        "non classé",
        "sin categoría",
        "general",
        "post",
        "posts",
        "article",
        "articles",
        "entry",
        "blog",
        "default",
        "misc",
        "miscellaneous",
        "other",
        "none",
        "null",
        "undefined",
        "untagged",
        "featured",
        "homepage featured",
        "hompage featured",
        "home page featured",
        "most popular",
        "sticky",
        "adfree",
        "ad-free",
        "ad free",
    }
)
"""Categories that say nothing about the story: CMS defaults, placement flags, feed variants."""
_URL = re.compile(r"^[a-z][a-z0-9+.-]*:|^www\.", re.IGNORECASE)
_NUMBER = re.compile(r"^[\d\W_]+$")


def looks_like_path_or_identifier(text: str) -> bool:
    """Whether `text` reads as a machine's name rather than a word for readers: a directory path
    ("Business/Industries/Publishing/"), a URL, a snake_case identifier ("adwords_api"), or a
    number. (Not camelCase: "iPhone" and "eBay" are words.)"""
    value = text.strip()
    if not value or _NUMBER.match(value) or _URL.match(value):
        return True
    if any(char.isspace() for char in value):
        return False
    if value.count("/") >= 2 or value.startswith("/") or value.endswith("/"):
        return True
    return "_" in value


def is_editorial(term: str, label: str = "", scheme: str = "") -> bool:
    """Whether a category (`term`, with the `label` and `scheme` Atom may give it) is a section
    or a topic a reader can use as a kicker."""
    text = " ".join(term.split())
    if not text or text.casefold() in PLACEHOLDERS or looks_like_path_or_identifier(text):
        return False
    if "/tag/" in scheme or scheme.rstrip("/").endswith("/tag"):
        return False  # a tag list, not the site's sections
    named = " ".join(label.split()).casefold()
    # A label is the term's display form ("r/Minecraft" for "Minecraft"); one that names a facet
    # instead ("Magnitude" for "Magnitude 2", "Age" for "Past Hour") files data, not news.
    return not named or text.casefold() in named
