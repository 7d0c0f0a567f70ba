"""Which address a story links to: the article itself rather than a click-tracking redirect, and
never a page only the publisher's own machines can open (localhost, a private network)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from digest.http.policy import on_source_site, url_kind
from digest.sources.items import is_web_url

ORIGINAL_LINK_SUFFIX = "_origlink"
"""feedparser files `feedburner:origLink`, `pheedo:origLink` and their kin under the feed's prefix
and the local name lower-cased: `feedburner_origlink`, `pheedo_origlink`."""
_REDIRECT_HOSTS = ("google.", "www.google.")
"""Hosts whose `/url?url=…` (or `q=`) is a click-tracking redirect to the address it carries."""


def original_link(entry: Mapping[str, object]) -> str:
    """The article's own address a feed proxy keeps beside its tracking redirect
    (`feedburner:origLink`, `pheedo:origLink`…); "" when there is none."""
    for key, value in entry.items():
        link = value.strip() if isinstance(value, str) else ""
        if key.lower().endswith(ORIGINAL_LINK_SUFFIX) and is_web_url(link):
            return link
    return ""


def unwrapped(url: str) -> str:
    """The address a known click-tracking redirect leads to (Google Alerts'
    `https://www.google.com/url?…&url=https://…`, Yahoo's `…/*http://…` chains); `url` itself
    otherwise."""
    embedded = url.rpartition("/*")[2]
    if embedded != url and is_web_url(embedded):
        return embedded  # Yahoo's `http://pa.yahoo.com/*http://us.rd.yahoo.com/…/*http://…`
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.path != "/url" or not host.startswith(_REDIRECT_HOSTS):
        return url
    query = dict(parse_qsl(parts.query))
    target = query.get("url") or query.get("q") or ""
    return target if is_web_url(target) else url


def tidy_path(url: str) -> str:
    """`url` with the slashes a CMS doubled at the start of its path collapsed
    (`http://us.battle.net///en/blog/1` → `http://us.battle.net/en/blog/1`), which many servers
    answer with 404; as written otherwise."""
    parts = urlsplit(url)
    if not parts.path.startswith("//") or not is_web_url(url):
        return url
    return urlunsplit(parts._replace(path="/" + parts.path.lstrip("/")))


def is_private_link(url: str, source: str) -> bool:
    """Whether a story linking to `url` opens for nobody who reads the issue: its host is loopback,
    private or a local name, and it is not on the site of `source` (the URL the feed was served
    from: an intranet feed's stories live on its own server, whose readers can open them). The
    same judgement as the fetch policy's, told from the URL alone (no DNS)."""
    return url_kind(url) is not None and not on_source_site(url, source)
