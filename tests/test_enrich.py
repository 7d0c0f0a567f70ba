"""Article enrichment against a live server on 127.0.0.1: thin feed and rail stories get their
articles' text, failures leave the story as it was with one warning, articles are cached."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest

from digest.config import Settings
from digest.enrich import enrich_stories, needs_article
from digest.http import Http
from digest.models import Story
from digest.pipeline import build_issue
from tests.support.http_server import LocalServer

DAY = dt.date(2026, 11, 26)
QUICK = {"fetch_timeout": 2, "fetch_retry_delay": 0.001}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(issues_dir=tmp_path / "issues", **QUICK)


def story(url: str, text: str = "One line.", **fields: object) -> Story:
    """A story from a feed on the server its article is on (the fetch policy lets a link reach
    127.0.0.1 only on its own source's site)."""
    return Story(title="A story", url=url, text=text, source=urljoin(url, "/feed.xml"), **fields)


def test_a_thin_feed_gets_teasers_from_its_articles(
    http_server: LocalServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    feed = http_server.url("/web/feed-thin.xml")
    with caplog.at_level(logging.WARNING):
        issue = build_issue(settings, date=DAY, sources=[feed]).issue

    assert issue.lead.title == "Tempers flare on the Vell-Arden fishing line"
    assert issue.lead.teaser.startswith(
        "Vell and Arden’s fishing truce is on the verge of collapse. Patrol boats rammed"
    )
    assert issue.lead.author == "Riley Callanan"  # the feed had none; the article has one
    visit, missing = issue.more
    assert "few concrete outcomes" in visit.teaser
    assert visit.image is not None  # from the article's og:image, checked and measured
    assert (visit.image.width, visit.image.height) == (600, 400)
    assert missing.teaser == "Here we go again: the Assembly considers a fishing quota bill."
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    article = http_server.url("/web/articles/missing-article.html")
    assert (
        "Kept 'Fishing quotas to divide Norland’s parliament again' as its source "
        f"gave it: {article}: HTTP 404 Not Found"
    ) in warnings


def test_a_news_page_builds_a_full_issue_with_enriched_rail_items(
    http_server: LocalServer, settings: Settings
) -> None:
    page = http_server.url("/web/news-page.html")
    issue = build_issue(settings, date=DAY, sources=[page]).issue

    assert issue.lead.title.startswith("Northern ferry crews expected to walk out")
    assert issue.lead.teaser.startswith("Transport Minister Elena Marsh says")
    assert issue.lead.image is not None and issue.lead.image.credit
    assert [story.title for story in issue.more][:3] == [
        "Tempers flare on the Vell-Arden fishing line",
        "Little to show for Lind’s trip to Ostara",
        "Norland names a culprit in the Kessel flood deaths",
    ]
    truce = issue.more[0]
    assert "[...]" not in truce.teaser
    assert truce.image is not None
    assert truce.image.credit == "Vell Coast Guard/Handout via HARBOUR WIRE"
    # The article page was read only for the rail items, never for the lead.
    assert http_server.hits("/web/news-page.html") == 1
    assert http_server.hits("/web/articles/bay-truce.html") == 1


def test_articles_are_cached_and_revalidated(http_server: LocalServer) -> None:
    url = http_server.url("/web/articles/lind-visit.html")
    settings = Settings(**QUICK)
    with Http(settings) as http:
        first = enrich_stories([story(url)], settings, http)[0]
    with Http(settings) as http:
        second = enrich_stories([story(url)], settings, http)[0]

    assert first.text == second.text
    assert first.text.startswith("Despite the grand welcome")
    requests = [headers for path, headers in http_server.requests if path.endswith("visit.html")]
    assert "If-Modified-Since" not in requests[0]
    assert "If-Modified-Since" in requests[1]  # answered 304 by the server, body from the cache


def test_stories_with_enough_text_or_an_editors_teaser_are_not_fetched(
    http_server: LocalServer,
) -> None:
    url = http_server.url("/web/articles/lind-visit.html")
    settings = Settings(**QUICK, enrich_min_words=5)
    stories = [
        story(url, "Five words are quite enough here."),
        story(url, teaser="The editor wrote this."),
        story("https://meridian-wire.example.com/2026/11/x"),  # the sample's reserved domain
    ]
    with Http(settings) as http:
        assert enrich_stories(stories, settings, http) == stories
    assert http_server.requests == []
    assert not needs_article(story(url), 0)  # 0 turns enrichment off


@pytest.mark.parametrize(
    ("path", "body", "content_type", "problem"),
    [
        ("/img.png", b"\x89PNG\r\n\x1a\n", "image/png", "is image/png, not a web page"),
        ("/empty.html", b"<html><body><nav>Menu</nav></body></html>", "text/html", "no more"),
        ("/_slow", b"", "", "timed out after 0.2 s"),
    ],
)
def test_a_page_that_cannot_help_leaves_the_story_with_one_warning(
    http_server: LocalServer,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: bytes,
    content_type: str,
    problem: str,
) -> None:
    url = http_server.add(path, body, content_type) if body else http_server.url(path)
    settings = Settings(fetch_timeout=0.2, fetch_retries=0)
    original = story(url)
    with caplog.at_level(logging.WARNING), Http(settings) as http:
        assert enrich_stories([original], settings, http) == [original]
    [record] = caplog.records
    assert record.getMessage().startswith("Kept 'A story' as its source gave it: ")
    assert problem in record.getMessage()


def test_digest_build_from_a_page_url(http_server: LocalServer, isolated_environment: Path) -> None:
    """The issue's promise, as a user runs it: `digest build --source https://…/page`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    environment.update(DIGEST_FETCH_RETRY_DELAY="0.001", DIGEST_FETCH_TIMEOUT="5")
    run = subprocess.run(
        [
            *(sys.executable, "-m", "digest", "build", "--date", "2026-11-26"),
            *("--source", http_server.url("/web/news-page.html")),
        ],
        cwd=isolated_environment,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Built 2026-11-26: 1 lead + 4 more" in run.stderr
    assert "Traceback" not in run.stderr
    # The rail's last item links to a missing article: one line says so, the issue still builds.
    warnings = [line for line in run.stderr.splitlines() if "missing-article.html" in line]
    assert len(warnings) == 1 and "HTTP 404 Not Found" in warnings[0]
    issue = json.loads((isolated_environment / "issues/2026-11-26/issue.json").read_text())
    assert issue["lead"]["teaser"].startswith("Transport Minister Elena Marsh")
    assert all(item["teaser"] for item in issue["more"])
    assert all(item["image"]["width"] and item["image"]["height"] for item in issue["more"])


def test_a_redirect_page_is_followed_once_to_the_article(http_server: LocalServer) -> None:
    """Aggregators and link shorteners answer with a page whose `<meta http-equiv="refresh">`
    sends the browser on; the article is behind it."""
    article = http_server.url("/web/articles/lind-visit.html")
    hop = f"""<html><head><META http-equiv="refresh" content="0;URL='{article}'"></head>
    <body><script>location.replace("{article}")</script></body></html>"""
    url = http_server.add("/go/123", hop.encode(), "text/html")
    settings = Settings(**QUICK)
    with Http(settings) as http:
        [enriched] = enrich_stories([story(url)], settings, http)
    assert "few concrete outcomes" in enriched.text
    assert enriched.url == url
    assert http_server.hits("/web/articles/lind-visit.html") == 1


def test_a_redirect_page_to_a_documentation_domain_is_not_followed(
    http_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    hop = b"""<html><META http-equiv="refresh" content="0;URL='http://example.com'"></html>"""
    url = http_server.add("/go/456", hop, "text/html")
    settings = Settings(**QUICK)
    with caplog.at_level(logging.WARNING), Http(settings) as http:
        assert enrich_stories([story(url)], settings, http) == [story(url)]
    [record] = [record for record in caplog.records if record.name.startswith("digest")]
    assert record.getMessage() == (
        f"Kept 'A story' as its source gave it: no more article text found at {url}"
    )


def test_the_pages_summary_stands_in_when_the_article_text_is_no_prose(
    http_server: LocalServer, settings: Settings
) -> None:
    url = http_server.url("/web/articles/gallery-caption-only.html")
    with Http(settings) as http:
        [enriched] = enrich_stories([story(url, text="Lanterns.")], settings, http)

    assert enriched.text.startswith("Thousands of paper lanterns floated across the old harbour")


def test_an_item_that_is_only_a_comments_link_gets_its_teaser_from_its_article(
    http_server: LocalServer, settings: Settings
) -> None:
    """A link aggregator's item (Hacker News: the description is only a "Comments" link) has no
    text of its own: its teaser comes from the article it links to, or is empty when that cannot
    be read, never "Comments"."""
    items = "".join(
        f"<item><title>{title}</title><link>{http_server.url(path)}</link>"
        f'<description>&lt;a href="{http_server.url(f"/item?id={number}")}"&gt;Comments&lt;/a&gt;'
        f"</description><comments>{http_server.url(f'/item?id={number}')}</comments>"
        f"<pubDate>Mon, 08 Dec 2025 1{number}:00:00 GMT</pubDate></item>"
        for number, title, path in [
            (5, "Tempers flare on the fishing line", "/web/articles/bay-truce.html"),
            (4, "A vanished article", "/web/articles/missing-article.html"),
        ]
    )
    feed = http_server.add(
        "/aggregator.xml",
        f'<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode(),
        "application/rss+xml",
    )
    issue = build_issue(settings, date=DAY, sources=[feed]).issue

    assert issue.lead.teaser.startswith("Vell and Arden’s fishing truce is on the verge")
    [vanished] = issue.more
    assert vanished.title == "A vanished article"
    assert vanished.teaser == ""
