"""The fetch policy against real servers on 127.0.0.1: a URL from content (an item link and its
redirects, a rail link, a picture) reaches a non-public address only on its own source's site or
on a host in DIGEST_FETCH_ALLOW_PRIVATE. `internal_server` is another origin standing for a
service inside the operator's network; `http_server` serves the sources."""

from __future__ import annotations

import datetime as dt
import logging
from html import escape
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.errors import ConfigError, Refused
from digest.http import Http
from digest.http.policy import FetchPolicy, on_source_site, url_kind
from digest.pipeline import build_issue
from digest.sources import read_source
from digest.sources.links import is_private_link
from tests.conftest import FIXTURES
from tests.support.http_server import LocalServer

DAY = dt.date(2026, 11, 26)
QUICK = {"fetch_timeout": 5, "fetch_retry_delay": 0.001}
ARTICLE = "/web/articles/lind-visit.html"
"""A full article: read from the internal server, its text would become the teaser."""
SUMMARY = "A one-line summary from the feed."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(issues_dir=tmp_path / "issues", cache_dir=tmp_path / "cache", **QUICK)


def _feed(link: str, image: str = "") -> bytes:
    enclosure = f'<enclosure url="{escape(image)}" type="image/png" length="1"/>' if image else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example.org/</link>
<item><title>Harbour talks resume</title><link>{escape(link)}</link>
<description>{SUMMARY}</description>{enclosure}
<pubDate>Thu, 26 Nov 2026 06:00:00 GMT</pubDate></item>
</channel></rss>""".encode()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_item_link_redirecting_to_an_internal_page_keeps_the_feeds_summary(
    http_server: LocalServer,
    internal_server: LocalServer,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The link is on the feed's own site, so it is followed; its redirect is not."""
    secret = internal_server.url(ARTICLE)
    hop = http_server.add("/go/1", b"", status=302, headers={"Location": secret})
    feed = http_server.add("/feed.xml", _feed(hop), "application/rss+xml")
    with caplog.at_level(logging.WARNING):
        issue = build_issue(settings, date=DAY, sources=[feed]).issue
    assert issue.lead.teaser == SUMMARY
    assert internal_server.requests == []
    assert http_server.hits("/go/1") == 1
    assert [w for w in _warnings(caplog) if w.startswith("Kept")] == [
        f"Kept 'Harbour talks resume' as its source gave it: {hop}: not fetched: 127.0.0.1 is "
        "a loopback address, off the site of its source (DIGEST_FETCH_ALLOW_PRIVATE can allow "
        "127.0.0.1)"
    ]


def test_an_allowed_host_may_be_reached_from_content(
    http_server: LocalServer, internal_server: LocalServer, tmp_path: Path
) -> None:
    secret = internal_server.url(ARTICLE)
    hop = http_server.add("/go/1", b"", status=302, headers={"Location": secret})
    feed = http_server.add("/feed.xml", _feed(hop), "application/rss+xml")
    settings = load_settings(
        issues_dir=tmp_path / "issues", fetch_allow_private="127.0.0.1", **QUICK
    )
    issue = build_issue(settings, date=DAY, sources=[feed]).issue
    assert "few concrete outcomes" in issue.lead.teaser
    assert internal_server.hits(ARTICLE) == 1


def test_a_picture_on_an_internal_server_is_dropped_unfetched(
    http_server: LocalServer,
    internal_server: LocalServer,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    article = http_server.url(ARTICLE)
    picture = internal_server.url("/web/images/bay.png")
    feed = http_server.add("/feed.xml", _feed(article, picture), "application/rss+xml")
    with caplog.at_level(logging.WARNING):
        issue = build_issue(settings, date=DAY, sources=[feed]).issue
    assert issue.lead.image is None or not issue.lead.image.url.startswith(internal_server.base)
    assert internal_server.requests == []
    [warning] = [w for w in _warnings(caplog) if picture in w]
    assert warning.startswith("Dropped the image of 'Harbour talks resume': ")
    assert "not fetched: 127.0.0.1 is a loopback address" in warning


def test_rail_links_and_pictures_of_a_page_are_held_to_the_page_s_site(
    http_server: LocalServer, internal_server: LocalServer, settings: Settings
) -> None:
    page = (FIXTURES / "web" / "news-page.html").read_text(encoding="utf-8")
    page = page.replace("/web/articles/missing-article.html", internal_server.url(ARTICLE))
    page = page.replace("/web/images/assembly.png", internal_server.url("/web/images/bay.png"))
    source = http_server.add("/news-page.html", page.encode(), "text/html; charset=utf-8")
    issue = build_issue(settings, date=DAY, sources=[source]).issue
    quotas = next(story for story in issue.more if story.title.startswith("Fishing quotas"))
    assert quotas.teaser.startswith("Here we go again: Norland’s Assembly")
    assert quotas.image is None
    assert internal_server.requests == []
    truce = next(story for story in issue.more if story.title.startswith("Tempers flare"))
    assert truce.image is not None  # the page's own site may be private: 127.0.0.1 here


def test_a_configured_source_may_be_anywhere_but_its_redirects_are_held_to_its_site(
    http_server: LocalServer, internal_server: LocalServer, settings: Settings
) -> None:
    internal_feed = internal_server.add("/feed.xml", _feed("https://wire.example.org/a"))
    assert [story.title for story in read_source(internal_feed, settings)] == [
        "Harbour talks resume"
    ]
    moved = http_server.add("/moved.xml", b"", status=301, headers={"Location": internal_feed})
    with pytest.raises(Refused, match=r"moved\.xml: not fetched: 127\.0\.0\.1 is a loopback"):
        read_source(moved, settings)
    assert internal_server.hits("/feed.xml") == 1


NON_PUBLIC = [
    ("http://[::ffff:127.0.0.1]:{port}/web/plain.html", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.1.2.3/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.251/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://0.0.0.0:{port}/", "unspecified"),
    ("http://100.64.0.1/", "non-public"),
    ("http://[64:ff9b::a01:203]/", "private"),  # NAT64 of 10.1.2.3
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
]
"""Every kind of non-public address, as the fetch policy judges the address it connects to and
as `url_kind` judges a URL naming it."""


@pytest.mark.parametrize(
    ("url", "kind"), [("http://localhost:{port}/web/plain.html", "loopback"), *NON_PUBLIC]
)
def test_every_kind_of_non_public_address_is_refused_to_content(
    http_server: LocalServer, url: str, kind: str
) -> None:
    target = url.format(port=http_server.base.rsplit(":", 1)[1])
    settings = Settings(cache_dir=None, fetch_retries=0)
    with Http(settings) as http, pytest.raises(Refused) as caught:
        http.get(target, source="https://wire.example.org/feed.xml")
    message = str(caught.value)
    assert message.startswith(f"{target}: not fetched: ") and f"{kind} address" in message
    assert http_server.requests == []


@pytest.mark.parametrize("cache", [False, True])
def test_what_one_source_may_read_is_never_handed_to_another(
    http_server: LocalServer, internal_server: LocalServer, tmp_path: Path, cache: bool
) -> None:
    """Neither a kept-alive connection nor a cached copy of an internal page (fetched for the
    internal source itself) serves a link found in another source."""
    page = internal_server.add(
        "/private.html", b"<p>internal</p>", "text/html", headers={"Cache-Control": "max-age=600"}
    )
    own_source = internal_server.url("/feed.xml")
    with Http(Settings(cache_dir=tmp_path / "cache" if cache else None)) as http:
        assert http.get(page, source=own_source).content == b"<p>internal</p>"
        with pytest.raises(Refused):
            http.get(page, source=http_server.url("/feed.xml"))
        assert http.get(page, source=own_source).content == b"<p>internal</p>"
    assert internal_server.hits("/private.html") == (1 if cache else 2)


def test_the_same_site_in_its_https_form_counts_as_the_source_s_own() -> None:
    policy = FetchPolicy()
    source = "http://intranet.example/feed.xml"
    assert policy.may_reach_private("https://intranet.example/story", source)
    assert policy.may_reach_private("http://intranet.example:80/story", source)
    assert not policy.may_reach_private("http://intranet.example:8080/story", source)
    assert not policy.may_reach_private("https://other.example/story", source)
    assert not policy.may_reach_private("http://intranet.example/story", "feeds/local.xml")
    assert not policy.may_reach_private("http://intranet.example/story", "")


def test_the_allow_list_names_hosts(tmp_path: Path) -> None:
    settings = load_settings(fetch_allow_private=" Wiki.Corp.Example, *.lan.example, [::1] ")
    assert settings.fetch_allow_private == ["wiki.corp.example", "*.lan.example", "::1"]
    policy = FetchPolicy(frozenset(settings.fetch_allow_private))
    assert policy.may_reach_private("http://WIKI.corp.example:8080/page", "")
    assert policy.may_reach_private("https://cms.lan.example/page", "")
    assert not policy.may_reach_private("https://lan.example/page", "")
    assert policy.may_reach_private("http://[::1]:9000/", "")
    for wrong in ("http://wiki.corp.example", "wiki:8080", "*", "wiki/page"):
        with pytest.raises(ConfigError, match=r"DIGEST_FETCH_ALLOW_PRIVATE: .* is not a host name"):
            load_settings(fetch_allow_private=wrong)


SITE = "http://intranet.example/feed.xml"
"""An intranet feed, served over plain http on the default port."""


@pytest.mark.parametrize(
    ("url", "on_its_site"),
    [
        ("http://intranet.example/story", True),
        ("http://intranet.example:80/story", True),  # the default port, written out
        ("https://intranet.example/story", True),  # the same site moved to https
        ("HTTP://Intranet.Example./story", True),
        ("http://intranet.example:8080/story", False),
        ("https://intranet.example:8443/story", False),
        ("http://other.intranet.example/story", False),
    ],
)
def test_one_judgement_of_a_source_s_own_site(url: str, on_its_site: bool) -> None:
    """The content rule (is a story on a private host left out?) and the fetch policy (may a URL
    from content reach a private address?) agree on what a source's own site is."""
    assert on_source_site(url, SITE) is on_its_site
    assert FetchPolicy().may_reach_private(url, SITE) is on_its_site
    local = url.replace("intranet.example", "localhost").replace("Intranet.Example.", "localhost")
    assert is_private_link(local, SITE.replace("intranet.example", "localhost")) is not on_its_site


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        *((url.format(port=8000), kind) for url, kind in NON_PUBLIC),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
        ("https://localhost:8000", "local name"),  # a name: the URL alone cannot resolve it
        ("http://LOCALHOST./x", "local name"),
        ("http://wiki.internal/page", "local name"),
        ("http://printer.local/", "local name"),
        ("http://router.home.arpa/", "local name"),
        ("https://example.com/", None),
        ("http://8.8.8.8/", None),
        ("http://[2001:4860::8888]/", None),
        ("http://[::1/", None),
        ("mailto:someone@localhost", None),
        ("", None),
    ],
)
def test_what_a_url_alone_tells_of_its_host(url: str, kind: str | None) -> None:
    """The content rule and `digest check` judge a URL's host as the fetch policy judges the
    address it connects to (`address_kind`), IPv6 forms of IPv4 addresses included."""
    assert url_kind(url) == kind
    assert is_private_link(url, "https://city.example.org/feed.xml") is (kind is not None)


def test_with_sources_only_a_build_reads_its_feed_and_nothing_it_links_to(
    http_server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """DIGEST_FETCH_SOURCES_ONLY: the thin story keeps its feed's summary (no article is read)
    and its picture goes in as the feed gave it (not checked, not measured)."""
    article = http_server.url(ARTICLE)
    picture = http_server.url("/web/images/bay.png")
    feed = http_server.add("/feed.xml", _feed(article, picture), "application/rss+xml")
    settings = load_settings(
        issues_dir=tmp_path / "issues", cache_dir="", fetch_sources_only="true", **QUICK
    )
    with caplog.at_level(logging.WARNING):
        issue = build_issue(settings, date=DAY, sources=[feed]).issue
    assert issue.lead.teaser == SUMMARY
    assert issue.lead.image is not None and issue.lead.image.url == picture
    assert issue.lead.image.width is None
    assert [path for path, _ in http_server.requests] == ["/feed.xml"]
    assert [w for w in _warnings(caplog) if article in w or picture in w] == []


def test_with_sources_only_the_http_layer_fetches_nothing_but_a_source(
    http_server: LocalServer,
) -> None:
    """The promise holds in the HTTP layer itself, whichever stage asks: a source (and where it
    redirects) is read, a URL found in one is not."""
    page = http_server.add("/page.html", b"<p>moved here</p>", "text/html")
    moved = http_server.add("/old.html", b"", status=301, headers={"Location": page})
    with Http(Settings(cache_dir=None, fetch_sources_only=True)) as http:
        assert http.get(moved, source=moved).content == b"<p>moved here</p>"
        with pytest.raises(Refused, match=r"not fetched: DIGEST_FETCH_SOURCES_ONLY reads only"):
            http.get(page, source=moved)
    assert [path for path, _ in http_server.requests] == ["/old.html", "/page.html"]
