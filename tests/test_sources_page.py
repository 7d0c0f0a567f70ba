"""News pages as sources, served by a live server on 127.0.0.1: the lead from the page's
metadata and main text, the "More For You" rail from structure, and page profiles."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.errors import ConfigError, SourceError
from digest.http import Fetched
from digest.models import Story
from digest.page_profiles import PageProfile, profile_for
from digest.sources import gather, read_source
from digest.sources.page import is_page
from tests.support.http_server import LocalServer

WEB = Path(__file__).parent / "fixtures" / "web"
ODD_RAIL_PROFILE = {
    "container": ".explore",
    "item": ".card",
    "title": ".card-hed",
    "link": "a.card-link",
    "image": ".card-pic",
    "credit": ".card-credit",
    "excerpt": ".card-sum",
}


def read(server: LocalServer, name: str, **settings: object) -> list[Story]:
    return read_source(server.url(f"/web/{name}"), Settings(**settings))


def test_news_page_lead_comes_from_its_metadata_and_main_text(http_server: LocalServer) -> None:
    lead = read(http_server, "news-page.html")[0]

    assert lead.lead
    assert lead.title == ("Northern ferry crews expected to walk out within days as talks stall")
    assert lead.url == http_server.url("/web/news-page.html")
    assert lead.kicker == "On Our Radar"
    assert lead.author == "Dana Whitlock"
    assert lead.published == dt.datetime(2024, 10, 31, 20, 35, 11, tzinfo=dt.UTC)
    assert lead.image is not None
    assert lead.image.url == http_server.url(
        "/web/images/ferries.png?width=1200&height=630&coordinates=0%2C41%2C0%2C42"
    )
    assert lead.image.caption == (
        "Footage shared online on Oct 18, 2024 shows ferry crews rallying at Port Arden."
    )
    assert lead.image.credit == "Tomas Ekberg via Harbour Wire Photos"
    assert (lead.image.width, lead.image.height) == (1200, 630)


def test_news_page_lead_text_is_the_article_only(http_server: LocalServer) -> None:
    text = read(http_server, "news-page.html")[0].text

    assert text.startswith("Transport Minister Elena Marsh says ferry crews")
    assert text.rstrip().endswith("pushes back hard.")
    for furniture in ("More For You", "Skip to content", "Share on", "Latest Stories", "Vell"):
        assert furniture not in text


def test_more_for_you_items_keep_title_and_excerpt_apart(http_server: LocalServer) -> None:
    more = read(http_server, "news-page.html")[1:]

    assert [story.title for story in more] == [
        "Tempers flare on the Vell-Arden fishing line",
        "Little to show for Lind’s trip to Ostara",
        "Norland names a culprit in the Kessel flood deaths",
        "Fishing quotas to divide Norland’s parliament again",
    ]
    first = more[0]
    assert first.text.startswith("Vell and Arden’s fishing truce is on the verge of collapse.")
    assert first.text.endswith("quarrelling along their [...]")
    assert first.url == http_server.url("/web/articles/bay-truce.html")
    assert not first.lead
    assert first.source == http_server.url("/web/news-page.html")
    assert first.image is not None
    assert first.image.url == http_server.url("/web/images/bay.png")
    assert first.image.caption.startswith("An injured fisherman is helped ashore")
    assert first.image.caption.endswith("December 7, 2025.")
    assert first.image.credit == "Vell Coast Guard/Handout via HARBOUR WIRE"
    assert (first.image.width, first.image.height) == (600, 400)
    for story in more:
        assert story.title not in story.text
        assert story.image is not None and story.image.credit
        assert story.image.credit not in story.image.caption


def test_a_lazy_image_in_the_rail_is_found_behind_its_placeholder(
    http_server: LocalServer,
) -> None:
    visit = read(http_server, "news-page.html")[2]
    assert visit.image is not None
    assert visit.image.url == http_server.url("/web/images/lind-havel.png")
    assert visit.image.credit == "Ostara Press/Ivo Marek/Pool via HARBOUR WIRE"


def test_an_image_without_alt_text_gets_its_caption(http_server: LocalServer) -> None:
    flood = read(http_server, "news-page.html")[3]
    assert flood.image is not None
    assert flood.image.alt == flood.image.caption
    assert flood.image.alt.startswith("A chapel is the last building standing")


def test_opengraph_only_page(http_server: LocalServer) -> None:
    stories = read(http_server, "opengraph-only.html")

    assert len(stories) == 1
    lead = stories[0]
    assert lead.title == "Harbour authority approves tidal barrier"  # " | The Coastal Ledger" cut
    assert lead.author == "Mara Holt"  # article:author is a URL; the meta name is a name
    assert lead.kicker == "Environment"
    assert lead.published == dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC)
    assert lead.image is not None
    assert lead.image.url == "https://ledger.example.net/img/barrier-og.jpg"  # https preferred
    assert lead.image.alt == "Concrete caissons of the tidal barrier at low water"
    assert (lead.image.width, lead.image.height) == (1200, 675)
    assert "harbour authority voted on Tuesday" in lead.text
    assert "Sign up" not in lead.text


def test_json_ld_only_page_with_a_graph_and_an_image_object(http_server: LocalServer) -> None:
    lead = read(http_server, "jsonld-only.html")[0]

    assert lead.title == "Grain corridor reopens after three-week closure"
    assert lead.author == "Ana Ruiz, Tom Becker"
    assert lead.kicker == "Economy"
    assert lead.published == dt.datetime(2026, 11, 24, 16, 5, tzinfo=dt.UTC)
    assert lead.image is not None
    assert lead.image.url == "https://courier.example.org/uploads/2026/11/grain-ship.jpg"
    assert lead.image.caption == "A bulk carrier loads wheat at the river terminal on Monday."
    assert lead.image.credit == "Photo: Ana Ruiz / Valley Courier"
    assert (lead.image.width, lead.image.height) == (1600, 900)
    assert lead.text.startswith("Barges carrying wheat and maize")


def test_page_with_neither_opengraph_nor_json_ld(http_server: LocalServer) -> None:
    lead = read(http_server, "plain.html")[0]

    assert lead.title == "Night trains return to the northern line"
    assert "Overnight trains will run on the northern line again" in lead.text
    assert lead.image is not None
    assert lead.image.url == http_server.url("/pics/sleeper.jpg")
    assert lead.image.caption == "The refurbished sleeper cars at the depot last week."
    assert lead.image.credit == "Photo: J. Lind"
    assert lead.image.alt == "A sleeper car at the depot"


def test_json_ld_variants_survive_sloppy_markup(http_server: LocalServer) -> None:
    """Raw newlines inside strings, a CDATA wrapper, a list at the top and an image list."""
    script = (
        '//<![CDATA[\n[{"@type": "BreadcrumbList"}, {"@type": "NewsArticle", '
        '"headline": "Two\nlines", "image": ["/a.jpg", "/b.jpg"], "author": "Kim Lee"}]\n//]]>'
    )
    page = f"""<!doctype html><html><head><script type="application/ld+json">{script}</script>
    <script type="application/ld+json">{{"@type": "Article", "headline": broken</script>
    </head><body><h1>Other</h1><p>Text.</p></body></html>"""
    url = http_server.add("/sloppy", page.encode(), "text/html")
    lead = read_source(url, Settings())[0]
    assert (lead.title, lead.author) == ("Two lines", "Kim Lee")
    assert lead.image is not None and lead.image.url == http_server.url("/a.jpg")


def test_the_default_misreads_a_topics_box_as_the_rail(http_server: LocalServer) -> None:
    """Why profiles exist: this page's "Related" box holds topic links, its rail has no heading
    the defaults know."""
    titles = [story.title for story in read(http_server, "odd-rail.html")[1:]]
    assert titles == [
        "Local government and politics",
        "City budget archive pages",
        "Weather and winter roads",
    ]


def test_a_page_profile_reads_the_rail_the_defaults_miss(http_server: LocalServer) -> None:
    profiles = {"127.0.0.1": ODD_RAIL_PROFILE}
    stories = read(http_server, "odd-rail.html", page_profiles=json.dumps(profiles))

    assert [(story.title, story.text) for story in stories[1:]] == [
        (
            "Eastside pool reopens after repairs",
            "The 1960s pool has a new roof and a heated learner basin.",
        ),
        (
            "Park-and-ride buses start on Monday",
            "Two routes will run every ten minutes from the ring road.",
        ),
    ]
    pool = stories[1]
    assert pool.url == http_server.url("/2026/11/pool-reopens")
    assert pool.image is not None
    assert pool.image.url == http_server.url("/web/images/valley-flood.png")
    assert pool.image.credit == "Tribune photo"


def test_a_profile_that_matches_nothing_warns_and_falls_back(
    http_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    profiles = {"127.0.0.1": {"container": ".no-such-rail", "item": "li"}}
    with caplog.at_level(logging.WARNING, logger="digest.sources"):
        stories = read(http_server, "news-page.html", page_profiles=json.dumps(profiles))
    assert len(stories) == 5
    [record] = caplog.records
    assert "the page profile found no related stories (container '.no-such-rail'" in (
        record.getMessage()
    )


def test_profiles_from_a_yaml_file_and_for_parent_domains(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("MeridianWeekly.example.:\n  container: section.more\n  item: article\n")
    settings = load_settings(page_profiles=str(path))
    profile = settings.page_profiles["meridianweekly.example"]
    assert profile == PageProfile(container="section.more", item="article")
    assert profile_for("www.meridianweekly.example", settings.page_profiles) is profile
    assert profile_for("meridianweekly.example.evil.example", settings.page_profiles) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"a.com": {"container": "div[", "item": "a"}}', "not a CSS selector: 'div['"),
        ('{"a.com": {"container": "div", "item": "a", "titel": "h2"}}', "Extra inputs"),
        ('{"a.com": {"item": "a"}}', "Field required"),
        ("{not json", "not valid JSON or YAML"),
        ("/no/such/profiles.yaml", "cannot read /no/such/profiles.yaml"),
    ],
)
def test_bad_profiles_fail_when_settings_are_read(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(page_profiles=value)
    assert str(caught.value).startswith("DIGEST_PAGE_PROFILES: ")
    assert message in str(caught.value)


def test_a_page_served_with_the_wrong_charset(http_server: LocalServer) -> None:
    """The header says UTF-8, the bytes are windows-1252 as the page's own meta says."""
    page = (
        '<html><head><meta charset="windows-1252"><title>Café “Señor” reopens</title></head>'
        "<body><h1>Café “Señor” reopens</h1><p>The café on the square reopened.</p></body></html>"
    ).encode("cp1252")
    url = http_server.add("/cafe", page, "text/html; charset=utf-8")
    assert read_source(url, Settings())[0].title == "Café “Señor” reopens"


def test_a_page_without_any_headline_is_an_error(http_server: LocalServer) -> None:
    url = http_server.add("/bare", b"<!doctype html><html><body><p>Hi.</p></body></html>")
    with pytest.raises(SourceError) as caught:
        read_source(url, Settings())
    assert str(caught.value) == (
        f"{url}: a web page without a headline (no JSON-LD, OpenGraph, <h1> or <title>)"
    )


def test_a_saved_page_needs_its_web_address(tmp_path: Path) -> None:
    path = tmp_path / "saved.html"
    path.write_bytes((WEB / "plain.html").read_bytes())
    with pytest.raises(SourceError, match="a saved page without its address"):
        read_source(str(path), Settings())
    lead = read_source(str(WEB / "news-page.html"), Settings())[0]
    assert (
        lead.url == "https://www.meridianweekly.example/northern-ferry-crews-expected-to-walk-out"
    )


@pytest.mark.parametrize(
    ("content", "content_type", "page"),
    [
        (b"<!DOCTYPE html><html><body></body></html>", "", True),
        (b'<?xml version="1.0"?><rss version="2.0"></rss>', "text/html", False),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'>", "text/html", False),
        (b"  <div>fragment</div>", "text/html", True),
        (b"<div>fragment</div>", "application/xml", False),
    ],
)
def test_pages_are_told_from_feeds(content: bytes, content_type: str, page: bool) -> None:
    fetched = Fetched(content=content, url="https://x.example.org/", content_type=content_type)
    assert is_page(fetched) is page


def test_gather_reads_a_page_and_a_feed_together(http_server: LocalServer) -> None:
    stories = gather(
        [http_server.url("/web/news-page.html"), http_server.url("/web/feed-thin.xml")],
        Settings(),
    )
    assert [story.lead for story in stories].count(True) == 1
    # The feed's stories repeat the rail's: de-duplicated, the page (listed first) wins.
    assert len(stories) == 5
    assert all(story.source == http_server.url("/web/news-page.html") for story in stories)
