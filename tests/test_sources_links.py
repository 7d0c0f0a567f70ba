"""Which address a story links to: the article, not a tracking redirect, and never a page only the
publisher's own machines can open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.sources import read_source
from digest.sources.links import is_private_link, unwrapped
from tests.support.http_server import LocalServer

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:pheedo="http://www.pheedo.com/namespace/pheedo"
     xmlns:fp="http://rssnamespace.org/feedburner/ext/1.0">
<channel><title>City news</title><link>https://city.example.org/</link>
{items}
</channel></rss>"""


def item(title: str, link: str, extra: str = "") -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>{extra}"
        "<description>The council met on Thursday. It voted on the budget.</description></item>"
    )


def read(tmp_path: Path, *items: str) -> list[str]:
    path = tmp_path / "feed.xml"
    path.write_text(RSS.format(items="\n".join(items)), encoding="utf-8")
    return [story.url for story in read_source(str(path), Settings())]


def test_orig_link_of_any_feed_proxy_is_the_article(tmp_path: Path) -> None:
    assert read(
        tmp_path,
        item(
            "Debate",
            "http://feeds.city.example.org/click.phdo?i=8a845c",
            "<pheedo:origLink>https://city.example.org/2009/08/29/debate.php</pheedo:origLink>",
        ),
        item(
            "Lottery",
            "http://feeds.example.net/~r/city/~3/abc/",
            "<fp:origLink>https://city.example.org/2009/08/29/lottery.php</fp:origLink>",
        ),
    ) == [
        "https://city.example.org/2009/08/29/debate.php",
        "https://city.example.org/2009/08/29/lottery.php",
    ]


def test_google_alert_redirects_lead_to_the_article() -> None:
    assert (
        unwrapped(
            "https://www.google.com/url?rct=j&sa=t&url=https://www.vox.com/2019/7/10/slack"
            "&ct=ga&usg=AFQjCNE"
        )
        == "https://www.vox.com/2019/7/10/slack"
    )
    assert unwrapped("https://www.google.com/search?q=https://x.example/") == (
        "https://www.google.com/search?q=https://x.example/"
    )
    assert (
        unwrapped(
            "http://pa.yahoo.com/*http://us.rd.yahoo.com/launch/ms/RSSfeeds/evt=37895/"
            "*http://music.yahoo.com/ymu-21642319-1-1"
        )
        == "http://music.yahoo.com/ymu-21642319-1-1"
    )
    assert unwrapped("https://example.org/a/*b") == "https://example.org/a/*b"
    assert unwrapped("https://www.google.com/url?url=javascript:alert(1)") == (
        "https://www.google.com/url?url=javascript:alert(1)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost:8000",
        "http://LOCALHOST./x",
        "http://app.localhost/",
        "http://127.0.0.1/a",
        "http://10.1.2.3/",
        "http://192.168.0.10:8080/x",
        "http://172.20.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://wiki.internal/page",
        "http://printer.local/",
    ],
)
def test_private_addresses(url: str) -> None:
    assert is_private_link(url, "https://city.example.org/feed.xml")


@pytest.mark.parametrize(
    "url",
    ["https://example.com/", "http://8.8.8.8/", "http://[2001:4860::8888]/", "http://[::1/", ""],
)
def test_public_addresses(url: str) -> None:
    assert not is_private_link(url, "https://city.example.org/feed.xml")


def test_a_story_linking_only_to_localhost_is_left_out(tmp_path: Path) -> None:
    assert read(
        tmp_path,
        item("Draft", "https://localhost:8000"),
        item("Budget", "https://city.example.org/budget"),
        item("Router", "http://192.168.1.1/admin"),
    ) == ["https://city.example.org/budget"]


def test_a_feed_linking_only_to_private_addresses_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="all 1 items skipped: link to a private address"):
        read(tmp_path, item("Draft", "https://localhost:8000/draft"))


def test_an_intranet_feed_may_link_to_its_own_server(http_server: LocalServer) -> None:
    """The operator chose the source; its own origin is where its stories live."""
    own = http_server.url("/news/budget")
    body = RSS.format(items=item("Budget", own) + item("Other", "http://10.9.9.9/x"))
    url = http_server.add("/intranet.xml", body.encode(), "application/rss+xml")
    assert [story.url for story in read_source(url, Settings())] == [own]


def test_json_feed_items_on_private_addresses_are_left_out(tmp_path: Path) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Dev blog",
        "items": [
            {"id": "1", "url": "http://127.0.0.1:4000/post", "title": "Local preview"},
            {"id": "2", "url": "https://dev.example.org/post", "title": "Published"},
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    assert [story.url for story in read_source(str(path), Settings())] == [
        "https://dev.example.org/post"
    ]
