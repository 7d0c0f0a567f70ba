"""Remote image checks against a live server on 127.0.0.1: sizes from the first bytes, and
missing, non-image and tiny pictures dropped with one warning each."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from urllib.parse import urljoin

import pytest

from digest.config import Settings
from digest.http import Http
from digest.models import Image, Story
from digest.remote_images import check_selection_images, check_story_image, https_first
from digest.select import Selection
from tests.support.http_server import LocalServer

WEB_IMAGES = Path(__file__).parent / "fixtures" / "web" / "images"
QUICK = Settings(fetch_timeout=2, fetch_retry_delay=0.001)


def with_image(url: str, **image: object) -> Story:
    """A story from a feed on the server its picture is on (the fetch policy lets a picture
    reach 127.0.0.1 only on its own source's site)."""
    return Story(
        title="Harbour talks",
        url="https://news.example.org/a",
        image=Image(url=url, **image),
        source=urljoin(url, "/feed.xml"),
    )


def check(story: Story, settings: Settings = QUICK) -> Story:
    with Http(settings) as http:
        return check_story_image(story, http)


def test_size_is_read_from_the_first_bytes(http_server: LocalServer) -> None:
    checked = check(with_image(http_server.url("/web/images/bay.png")))
    assert checked.image is not None
    assert (checked.image.width, checked.image.height) == (600, 400)


def test_a_large_picture_is_measured_without_downloading_it(http_server: LocalServer) -> None:
    """The size cap is far below the picture: only a partial read can measure it."""
    head = (WEB_IMAGES / "ferries.png").read_bytes()
    url = http_server.add("/huge.png", head + b"\0" * 3_000_000, "image/png")
    checked = check(with_image(url), Settings(fetch_max_bytes=10_000, fetch_retry_delay=0.001))
    assert checked.image is not None
    assert (checked.image.width, checked.image.height) == (1200, 630)


def test_sizes_from_the_source_are_kept(http_server: LocalServer) -> None:
    checked = check(with_image(http_server.url("/web/images/bay.png"), width=300, height=200))
    assert checked.image is not None
    assert (checked.image.width, checked.image.height) == (300, 200)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/web/images/missing.jpg", "HTTP 404 Not Found"),
        ("/web/news-page.html", "not an image (text/html)"),
        ("/web/images/pixel.gif", "too small to show (1×1 px)"),
        ("/web/images/icon.png", "too small to show (32×32 px)"),
    ],
)
def test_a_bad_picture_is_dropped_with_one_warning(
    http_server: LocalServer, caplog: pytest.LogCaptureFixture, path: str, problem: str
) -> None:
    url = http_server.url(path)
    with caplog.at_level(logging.WARNING, logger="digest.images"):
        checked = check(with_image(url))
    assert checked.image is None
    assert checked.title == "Harbour talks"
    assert [record.getMessage() for record in caplog.records] == [
        f"Dropped the image of 'Harbour talks': {url}: {problem}"
    ]


def test_an_image_type_that_cannot_be_measured_is_kept(http_server: LocalServer) -> None:
    """A picture the size reader does not know (here: a declared image/heic) is still a picture."""
    url = http_server.add("/photo.heic", b"\0\0\0\x18ftypheic" + b"\0" * 200, "image/heic")
    checked = check(with_image(url, width=640, height=480))
    assert checked.image is not None
    assert checked.image.url == url


def test_https_is_tried_first_on_default_ports() -> None:
    assert https_first("http://cdn.example.org/a.jpg?w=600") == [
        "https://cdn.example.org/a.jpg?w=600",
        "http://cdn.example.org/a.jpg?w=600",
    ]
    assert https_first("https://cdn.example.org/a.jpg") == ["https://cdn.example.org/a.jpg"]
    assert https_first("http://127.0.0.1:8080/a.jpg") == ["http://127.0.0.1:8080/a.jpg"]


def test_only_remote_pictures_off_reserved_domains_are_checked(http_server: LocalServer) -> None:
    stories = [
        with_image("https://meridian-wire.example.com/a.jpg"),
        with_image("file:///tmp/local.jpg"),
        Story(title="No picture", url="https://news.example.org/b"),
    ]
    selection = Selection(lead=stories[0], more=stories[1:], already_sent=0, wanted_more=2)
    assert check_selection_images(selection, QUICK) == selection
    assert http_server.requests == []


def test_the_selection_is_checked_concurrently_and_in_order(http_server: LocalServer) -> None:
    lead = with_image(http_server.url("/web/images/ferries.png"))
    more = [
        with_image(http_server.url(f"/web/images/{name}")) for name in ("icon.png", "assembly.png")
    ]
    selection = Selection(lead=lead, more=more, already_sent=0, wanted_more=2)

    checked = check_selection_images(selection, QUICK)

    assert checked.lead.image is not None and checked.lead.image.width == 1200
    assert checked.more[0].image is None
    assert checked.more[1].image is not None and checked.more[1].image.height == 400


def test_an_image_that_cannot_be_reached_is_kept_unchecked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No answer from the network says nothing about the picture: readers may reach it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    story = with_image(f"http://127.0.0.1:{closed_port}/lead.jpg", width=800, height=450)
    with caplog.at_level(logging.WARNING, logger="digest.images"):
        checked = check(story, Settings(fetch_timeout=1, fetch_retries=0))
    assert checked.image == story.image
    assert "Kept the image of 'Harbour talks' unchecked" in caplog.text
    assert "cannot connect" in caplog.text
