"""Feeds that used to be lost whole: relative links, JSON Feed's http version, UTF-16 and UTF-32,
and every item skipped for a reason the build then did not give."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.pipeline import build_issue
from digest.sources import read_source
from tests.support.http_server import LocalServer

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"{base}>
  <title>Notes</title>
  {self_link}
  <link href="/blog/"/>
  <author><name>Sam Writer</name></author>
  <updated>2026-11-25T10:00:00Z</updated>
  <entry>
    <id>tag:notes.example.org,2026:1</id>
    <link href="{first}"/>
    <title>Plex at home</title>
    <updated>2026-11-25T10:00:00Z</updated>
    <summary>Plex became the centre of the living room. Nobody misses the cable box.</summary>
  </entry>
  <entry>
    <id>tag:notes.example.org,2026:2</id>
    <link href="2026/11/24/Cable"/>
    <title>Cable’s idea of service</title>
    <updated>2026-11-24T10:00:00Z</updated>
    <summary>Two letters came by post. Neither was good news.</summary>
  </entry>
</feed>
"""
SELF = '<link rel="self" href="https://notes.example.org/blog/index.atom"/>'


def atom(*, base: str = "", self_link: str = SELF, first: str = "/blog/2026/11/25/Plex") -> str:
    base_attribute = f' xml:base="{base}"' if base else ""
    return ATOM.format(base=base_attribute, self_link=self_link, first=first)


def write(tmp_path: Path, name: str, body: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return str(path)


def test_a_saved_feed_resolves_relative_links_against_its_self_link(tmp_path: Path) -> None:
    stories = read_source(write(tmp_path, "notes.atom", atom()), Settings())
    assert [story.url for story in stories] == [
        "https://notes.example.org/blog/2026/11/25/Plex",
        "https://notes.example.org/blog/2026/11/24/Cable",
    ]
    assert [story.author for story in stories] == ["Sam Writer", "Sam Writer"]  # the feed's


def test_xml_base_comes_before_the_self_link(tmp_path: Path) -> None:
    body = atom(base="https://archive.example.net/notes/")
    stories = read_source(write(tmp_path, "notes.atom", body), Settings())
    assert [story.url for story in stories] == [
        "https://archive.example.net/blog/2026/11/25/Plex",
        "https://archive.example.net/notes/2026/11/24/Cable",
    ]


def test_a_served_feed_resolves_relative_links_against_where_it_was_fetched(
    http_server: LocalServer,
) -> None:
    url = http_server.add("/notes/index.atom", atom(self_link="").encode(), "application/atom+xml")
    stories = read_source(url, Settings())
    assert [story.url for story in stories] == [
        http_server.url("/blog/2026/11/25/Plex"),
        http_server.url("/notes/2026/11/24/Cable"),
    ]


def test_a_feed_whose_every_item_was_skipped_says_why(tmp_path: Path) -> None:
    """Without a self link, a saved feed's relative links lead nowhere: the build says so, not
    "no new stories to send"."""
    location = write(tmp_path, "notes.atom", atom(self_link="", first="2026/11/25/Plex"))
    with pytest.raises(SourceError) as caught:
        build_issue(
            Settings(issues_dir=tmp_path / "issues"), date=dt.date(2026, 11, 26), sources=[location]
        )
    assert str(caught.value) == (
        f"{location}: all 2 items skipped: no http(s) link (such as '2026/11/25/Plex')"
    )
    assert not (tmp_path / "issues").exists()


JSON_FEED = {
    "version": "http://jsonfeed.org/version/1",
    "title": "Early adopter",
    "home_page_url": "https://early.example.org/",
    "items": [
        {
            "id": "1",
            "url": "https://early.example.org/2017/05/17/hello",
            "title": "Hello, JSON Feed",
            "content_text": "The first post of the feed. It predates the https version URL.",
        }
    ],
}


def test_json_feed_version_written_with_http(tmp_path: Path) -> None:
    [story] = read_source(write(tmp_path, "feed.json", json.dumps(JSON_FEED)), Settings())
    assert story.title == "Hello, JSON Feed"
    assert story.url == "https://early.example.org/2017/05/17/hello"


WIDE_FORMS = [
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-32-be", codecs.BOM_UTF32_BE),
    ("utf-16-le", b""),
    ("utf-16-be", b""),
    ("utf-32-le", b""),
    ("utf-32-be", b""),
]


@pytest.mark.parametrize(
    ("codec", "bom"),
    WIDE_FORMS,
    ids=[f"{codec}{'+bom' if bom else ''}" for codec, bom in WIDE_FORMS],
)
def test_feeds_in_utf16_and_utf32(
    codec: str, bom: bytes, tmp_path: Path, http_server: LocalServer
) -> None:
    declared = codec[:6].upper()
    body = bom + atom().replace('encoding="utf-8"', f'encoding="{declared}"').encode(codec)
    saved = read_source(write(tmp_path, "notes.atom", body), Settings())
    header = f"application/atom+xml; charset={codec[:6]}"
    served = read_source(http_server.add("/wide.atom", body, header), Settings())
    for stories in (saved, served):
        assert [story.title for story in stories] == ["Plex at home", "Cable’s idea of service"]
    feed = bom + json.dumps(JSON_FEED, ensure_ascii=False).encode(codec)
    [story] = read_source(write(tmp_path, "feed.json", feed), Settings())
    assert story.title == "Hello, JSON Feed"


def test_utf16_with_a_lone_surrogate_is_read_around_it(tmp_path: Path) -> None:
    good, bad = atom().split("Plex at home")
    body = codecs.BOM_UTF16_LE + good.encode("utf-16-le") + b"\x00\xd8" + bad.encode("utf-16-le")
    stories = read_source(write(tmp_path, "notes.atom", body), Settings())
    assert [story.title for story in stories] == ["\ufffd", "Cable’s idea of service"]
