"""The fetch policy: which addresses a URL may reach, by where the URL came from.

The operator's configured sources are trusted and may be anywhere: an intranet feed is fine. A URL
found inside content (an item's link, a picture, a page's rail or `og:` URL, and every redirect
hop) is not: a feed could otherwise make digest read an internal page and mail it to every
subscriber. Such a URL may reach a non-public address (loopback, private, link-local, multicast,
reserved, IPv4-mapped and other IPv6 forms of those) only when it is on the origin of the source it
came from, or its host is listed in DIGEST_FETCH_ALLOW_PRIVATE.

This module decides from URLs and addresses; `digest.http.transport` resolves each host once and
connects only to an address the decision allows. The sources' content rule (a story linking to a
loopback or private host is left out unless its feed is served from that site) asks the same
questions here: `url_kind` and `on_source_site`.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix: its last 32 bits are an IPv4 address."""
LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "localdomain")
"""Host names (and their subdomains) that resolve only inside one machine or one network."""


def address_kind(address: IPAddress) -> str | None:
    """What makes `address` non-public ("loopback", "private"…), or None for a public address.
    IPv6 addresses that carry an IPv4 one (mapped, 6to4, NAT64) are judged by both."""
    kinds = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    kind = next((name for name, applies in kinds if applies), None)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded) or kind
    return kind


Origin = tuple[str, str, int]


def origin(url: str) -> Origin | None:
    """Scheme, host (lower-case, IDNA-encoded) and port of an http(s) URL; None for anything else
    (a local path, a `file://` URI, a URL that does not parse)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parsed.raw_host:
        return None
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    return scheme, host, parsed.port or DEFAULT_PORTS[scheme]


def same_site(url: Origin, source: Origin) -> bool:
    """Same origin, or its https form (an http:// source whose links moved to https on the
    default port): a configured intranet feed's own site, however it is reached."""
    if url == source:
        return True
    return source == ("http", url[1], 80) and url == ("https", source[1], 443)


def on_source_site(url: str, source: str) -> bool:
    """Whether the http(s) URL `url` is on the site of the configured source `source` (a URL;
    a local file has no site)."""
    target, home = origin(url), origin(source)
    return target is not None and home is not None and same_site(target, home)


def url_kind(url: str) -> str | None:
    """What makes the host of the http(s) URL `url` non-public as far as the URL tells, without
    DNS: an IP address judged as `address_kind` judges a connected one, or a name such as
    `localhost` or `*.internal` ("local name"). None for any other host, or no http(s) URL."""
    target = origin(url)
    if target is None:
        return None
    host = target[1]
    if any(host == name or host.endswith("." + name) for name in LOCAL_NAMES):
        return "local name"
    try:
        return address_kind(ipaddress.ip_address(host))
    except ValueError:
        return None


@dataclass(frozen=True)
class FetchPolicy:
    """Which URLs may be fetched at all (with `sources_only`, none but the configured sources),
    and which may reach non-public addresses: those on their source's own site, and those whose
    host is allowed by the operator."""

    allowed_hosts: frozenset[str] = frozenset()
    """As `Settings.fetch_allow_private` holds them: lower-case, IDNA-encoded, IPv6 without
    brackets, `*.` for "every subdomain of"."""
    sources_only: bool = False
    """DIGEST_FETCH_SOURCES_ONLY: read the configured sources and nothing they link to."""

    def may_fetch(self, url: str, source: str) -> bool:
        """Whether `url`, met in (or configured as) `source`, may be requested at all."""
        return not self.sources_only or url == source

    def may_reach_private(self, url: str, source: str) -> bool:
        """Whether `url`, met in (or configured as) `source`, may reach a non-public address."""
        target = origin(url)
        if target is None:
            return False
        if on_source_site(url, source):
            return True
        host = target[1]
        with contextlib.suppress(ValueError):
            host = str(ipaddress.ip_address(host))
        return host in self.allowed_hosts or any(
            entry.startswith("*.") and host.endswith(entry[1:]) for entry in self.allowed_hosts
        )
