"""JSON Feed 1.0 and 1.1, with and without titles, and JSON that is not a feed."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.sources import read_source
from tests.support.http_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def test_json_feed_1_1_items() -> None:
    bookshop, herons, short, report = read_source(str(FIXTURES / "jsonfeed-1.1.json"), Settings())

    assert bookshop.title == "A new bookshop on Elm Street"
    assert bookshop.text.startswith("<p>The shop opened on Tuesday.</p>")  # content_html first
    assert bookshop.kicker == "Books"
    assert bookshop.author == "Pat Example"  # the feed's authors stand for the item's
    assert bookshop.published == dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)
    assert bookshop.image is not None
    # A root-relative picture in a local copy lives on the feed's home page site.
    assert bookshop.image.url == "https://pat.example.com/uploads/2026/shop.jpg"
    assert bookshop.image.caption == "The shop front on opening day."
    assert (bookshop.image.width, bookshop.image.height) == (900, 600)

    assert herons.title == ("Walked along the river this morning and counted eleven herons…")
    assert herons.published == dt.datetime(2026, 11, 24, 7, 12, tzinfo=dt.UTC)

    assert short.title == "Short one."
    assert short.url == "https://pat.example.com/2026/11/23/short"
    assert short.author == "Guest Writer"
    assert short.published is None  # "not a date"
    assert short.image is not None
    assert short.image.url == "https://pat.example.com/uploads/2026/short.png"
    assert short.image.alt == "Short one."

    assert report.url == "https://elsewhere.example.org/report"  # external_url only


def test_json_feed_skips_bad_items_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="digest.sources"):
        stories = read_source(str(FIXTURES / "jsonfeed-1.1.json"), Settings())
    titles = {story.title for story in stories}
    assert "Tags in the wrong shape" not in titles
    assert "A note without any address" not in titles
    messages = [record.getMessage() for record in caplog.records]
    assert any("items[4]: tags: Input should be a valid list" in m for m in messages)


def test_json_feed_1_0_author_banner_and_modified_date() -> None:
    library, snow = read_source(str(FIXTURES / "jsonfeed-1.0.json"), Settings())
    assert library.author == "Ruth Reporter"
    assert library.image is not None
    assert library.image.url == "https://record.example.com/img/library-wide.jpg"
    assert library.published == dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # no zone: UTC
    assert snow.author == "The Record Staff"
    assert snow.text == "Forecasters expect 5-10 cm of snow on Saturday."


def test_json_feed_over_http_without_extension(http_server: LocalServer) -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Served",
            "items": [{"id": "1", "url": "posts/1", "title": "Relative", "image": "img/1.jpg"}],
        }
    ).encode()
    url = http_server.add("/blog/feed", body, "application/feed+json")
    [story] = read_source(url, Settings())
    assert story.url == http_server.url("/blog/posts/1")
    assert story.image is not None
    assert story.image.url == http_server.url("/blog/img/1.jpg")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "items: Input should"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "items: required field missing"),
        (
            b'{"version": "https://jsonfeed.org/version/1", "items": [1]}',
            "items[0]: Input should be a valid dictionary",
        ),
    ],
)
def test_wrong_shape_is_a_source_error(tmp_path: Path, body: bytes, problem: str) -> None:
    path = tmp_path / "feed.json"
    path.write_bytes(body)
    with pytest.raises(SourceError) as caught:
        read_source(str(path), Settings())
    assert str(caught.value).startswith(f"{path}: not a valid JSON Feed: {problem}")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text('{"version": "https://jsonfeed.org/version/1.1",\n "items": [,]}')
    with pytest.raises(SourceError) as caught:
        read_source(str(path), Settings())
    assert str(caught.value) == f"{path}: not valid JSON: Expecting value (line 2, column 12)"


def test_json_that_is_neither_feed_nor_curated(http_server: LocalServer) -> None:
    url = http_server.add("/api/status", b'{"status": "ok"}', "application/json")
    with pytest.raises(SourceError, match=r"neither a JSON Feed .* nor a curated file"):
        read_source(url, Settings())


def test_the_feeds_icon_is_no_items_picture_nor_is_a_counting_pixel(tmp_path: Path) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "home_page_url": "https://blog.example.de/",
        "icon": "https://cdn.example.de/favicon-192x192.png",
        "favicon": "https://cdn.example.de/tile-128x128.png",
        "items": [
            {
                "url": "https://blog.example.de/a/",
                "title": "Logo only",
                "content_html": '<p>Text.</p><img src="https://stats.example.de/p.php?idsite=8'
                '&amp;action_name=A" style="border:0;" alt="" />',
                "image": "https://cdn.example.de/favicon-192x192.png",
                "banner_image": "https://cdn.example.de/tile-128x128.png",
            },
            {
                "url": "https://blog.example.de/b/",
                "title": "A real picture",
                "content_html": "<p>Text.</p>",
                "image": "https://img.example.de/b.jpg",
                "banner_image": "https://cdn.example.de/favicon-192x192.png",
            },
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    logo_only, real = read_source(str(path), Settings())
    assert logo_only.image is None
    assert real.image is not None
    assert real.image.url == "https://img.example.de/b.jpg"
