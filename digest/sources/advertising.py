"""Advertising that a feed carries as items ("[Sponsor] Delicious Library", "Sponsored: …", an item
filed under "Sponsored content"): it is the publisher's income, not a story for the newsletter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_LABEL_WORDS = (
    r"sponsor(?:ed)?(?:\s+(?:post|content|link|story))?|sponsorship|advertisement|advertorial|ad|"
    r"paid\s+(?:post|content|partnership)|partner\s+content|promoted|"
    r"anzeige|werbung|publicit[ée]|publirreportaje|patrocinado|sponsorizzato|reklama|реклама"
)
_TITLE_LABEL = re.compile(
    rf"^\s*(?:[\[(]\s*(?:{_LABEL_WORDS})\s*[\])]|(?:{_LABEL_WORDS})\s*[:|–—-])"
    rf"|[\[(]\s*(?:{_LABEL_WORDS})\s*[\])]\s*$",
    re.IGNORECASE,
)
"""A label the publisher puts before or after an advertiser's title: "[Sponsor] …",
"Sponsored: …", "… (Advertisement)", "Anzeige: …"."""
_CATEGORY = re.compile(rf"^\s*(?:{_LABEL_WORDS})\s*$", re.IGNORECASE)
_PATH_SEGMENT = re.compile(r"(?:^|/)(?:sponsors?|sponsored(?:-content)?|advertorials?)(?:/|$)")


def is_advertising(title: str, categories: Iterable[str] = (), item_id: str = "") -> bool:
    """Whether an item is an advertisement: its title carries an advertising label, one of its
    categories is only such a label, or its id sits in a sponsors' folder
    (`tag:daringfireball.net,2009:/feeds/sponsors//11.17352`). Not its link: a post about the
    site's sponsorships links to the sponsors' page, and an advertiser's link is its own site."""
    if _TITLE_LABEL.search(title):
        return True
    if any(_CATEGORY.match(category) for category in categories):
        return True
    return bool(item_id) and bool(_PATH_SEGMENT.search(_path(item_id)))


def _path(address: str) -> str:
    """The path of a URL, or of a `tag:` URI (what follows its date)."""
    if address.startswith("tag:"):
        return address.partition(":")[2].partition(":")[2]
    try:
        return urlsplit(address).path
    except ValueError:
        return ""
