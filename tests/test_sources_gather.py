"""Combining sources: kind detection, de-duplication, and carrying on past broken sources."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.http import Fetched
from digest.models import Story
from digest.sources import canonical_url, gather, parse_source, title_key
from tests.support.http_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def source(name: str) -> str:
    return str(FIXTURES / name)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://News.Example.COM/a/b/", "https://news.example.com/a/b"),
        ("https://news.example.com:443/a#comments", "https://news.example.com/a"),
        ("https://news.example.com:8443/a", "https://news.example.com:8443/a"),
        (
            "https://x.example/a?utm_source=rss&b=2&utm_Medium=x&a=1&fbclid=Z&gclid=Q",
            "https://x.example/a?a=1&b=2",
        ),
        ("https://x.example/", "https://x.example"),
        ("  https://x.example/path?q=%20x  ", "https://x.example/path?q=+x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_keeps_what_tells_pages_apart() -> None:
    assert canonical_url("https://x.example/a?id=1") != canonical_url("https://x.example/a?id=2")
    assert canonical_url("https://x.example/A") != canonical_url("https://x.example/a")


def test_title_key_folds_case_punctuation_and_space() -> None:
    assert title_key("Dam Project Approved!") == title_key("  dam project   approved ")
    assert title_key("Don’t panic: it’s “fine”") == title_key("Dont panic — its fine")
    assert title_key("STRASSE") == title_key("straße")
    assert title_key("Budget passes") != title_key("Budget fails")


def test_gather_removes_duplicates_across_sources_first_wins() -> None:
    stories = gather([source("dup-a.xml"), source("dup-b.xml")], Settings())
    assert [(story.title, story.source) for story in stories] == [
        ("Dam project approved", source("dup-a.xml")),  # same URL after canonicalising
        ("Markets close higher", source("dup-a.xml")),  # same title, other URL
        ("Zoo welcomes twin otters", source("dup-b.xml")),
    ]


def test_gather_keeps_a_later_duplicates_lead_mark_and_teaser(tmp_path: Path) -> None:
    curated = tmp_path / "picks.yaml"
    curated.write_text(
        "lead:\n"
        "  title: The dam gets the go-ahead\n"
        "  url: https://news.example.com/2026/11/dam-project/\n"
        "  teaser: Our editor's words.\n"
    )
    stories = gather([source("dup-a.xml"), str(curated)], Settings())
    dam = stories[0]
    assert dam.title == "Dam project approved"  # the first occurrence wins...
    assert dam.lead  # ...but the editor's choices are not lost
    assert dam.teaser == "Our editor's words."
    assert len(stories) == 2


def test_gather_detects_every_kind_by_content(http_server: LocalServer) -> None:
    locations = [
        http_server.add("/rss", (FIXTURES / "rss1.rdf").read_bytes(), "text/xml"),
        http_server.add("/atom", (FIXTURES / "atom.xml").read_bytes(), "application/xml"),
        http_server.add("/json", (FIXTURES / "jsonfeed-1.0.json").read_bytes(), "text/plain"),
        http_server.add("/picks", (FIXTURES / "curated-stories.json").read_bytes(), "text/html"),
    ]
    stories = gather(locations, Settings())
    assert [story.source for story in stories] == [locations[0]] * 2 + [locations[1]] * 2 + [
        locations[2]
    ] * 2 + [locations[3]] * 3


def test_broken_sources_are_one_warning_each_and_the_rest_go_on(
    http_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    missing = http_server.url("/_status/404")
    with caplog.at_level(logging.WARNING, logger="digest.sources"):
        stories = gather(
            [missing, source("guardian.xml"), source("page.html"), source("nope.xml")],
            Settings(),
        )
    assert [story.source for story in stories] == [source("guardian.xml")] * 2
    assert [record.getMessage() for record in caplog.records] == [
        f"Could not read {missing}: HTTP 404 Not Found",
        f"Could not read {source('page.html')}: a home page, not an article; "
        "use its feed: https://shopper.example.com/feed/",
        f"Could not read {source('nope.xml')}: no such file",
    ]


def test_a_reader_that_crashes_costs_only_its_own_source(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import digest.sources

    read_feed = digest.sources.parse_feed

    def parse_feed(fetched: Fetched, location: str) -> list[Story]:
        if location.endswith("dup-b.xml"):
            raise ValueError("All strings must be XML compatible:\nno control characters")
        return read_feed(fetched, location)

    monkeypatch.setattr(digest.sources, "parse_feed", parse_feed)
    with caplog.at_level(logging.WARNING, logger="digest.sources"):
        stories = gather([source("dup-b.xml"), source("dup-a.xml")], Settings())
    assert stories and {story.source for story in stories} == {source("dup-a.xml")}
    assert [record.getMessage() for record in caplog.records] == [
        f"Could not read {source('dup-b.xml')}: could not be read, a bug in digest "
        "(ValueError: All strings must be XML compatible: no control characters)"
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[" * 5_000 + b"]" * 5_000, "JSON nested too deeply to read"),
        (b'{"lead":' * 1_000 + b"1" + b"}" * 1_000, "JSON nested too deeply to read"),
        (b"lead:\n" + b"- " * 1_000 + b"x", "YAML nested too deeply to read"),
        (b"lead: " + b"[" * 1_000 + b"]" * 1_000, "YAML nested too deeply to read"),
    ],
    ids=["json-list", "json-object", "yaml-block", "yaml-flow"],
)
def test_nesting_too_deep_to_read_is_one_line(content: bytes, problem: str) -> None:
    fetched = Fetched(content=content, url="https://example.com/today.yaml")
    with pytest.raises(SourceError) as caught:
        parse_source(fetched, "today.yaml")
    assert str(caught.value) == f"today.yaml: {problem}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # A curated file at an address that does not say YAML is still named as YAML.
        (
            b"stories:\n- {title: A, url: https://a.example/, published: 2026-13-01}\n",
            "not valid YAML: month must be in 1..12 (line 2)",
        ),
        (b'{"lead": 9' + b"9" * 5_000 + b"}", "not valid JSON: a number too long to read"),
    ],
)
def test_a_value_python_cannot_build_is_one_line(content: bytes, problem: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_source(Fetched(content=content, url="https://example.com/today"), "today")
    assert str(caught.value) == f"today: {problem}"


@pytest.mark.parametrize(
    ("content", "url"),
    [
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", '
            b'"url": "https://example.com/a", "title": "Lone \\ud800 half \\udfff"}]}',
            "https://example.com/feed.json",
        ),
        (
            b'stories:\n- {title: "Lone \\ud800 half \\udfff", url: "https://example.com/a"}\n',
            "https://example.com/today.yaml",
        ),
    ],
    ids=["json-feed", "curated-yaml"],
)
def test_a_lone_surrogate_escape_is_a_replacement_character(content: bytes, url: str) -> None:
    # Text holding one can be neither stored in issue.json nor sent.
    [story] = parse_source(Fetched(content=content, url=url), "source")
    assert story.title == "Lone \ufffd half \ufffd"
    story.model_dump_json()


def test_when_every_source_fails_the_first_failure_is_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="digest.sources"),
        pytest.raises(SourceError) as caught,
    ):
        gather([source("nope.xml"), source("not-a-feed.xml"), source("page.html")], Settings())
    assert str(caught.value) == f"{source('nope.xml')}: no such file (and 2 more sources failed)"
    warned = [record.getMessage() for record in caplog.records]
    assert [line.split(":")[0] for line in warned] == [
        f"Could not read {source('not-a-feed.xml')}",
        f"Could not read {source('page.html')}",
    ], "each failure once: the first is the error, the others warnings"


def test_a_single_failed_source_is_raised_as_is(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="digest.sources"),
        pytest.raises(SourceError) as caught,
    ):
        gather([source("nope.xml")], Settings())
    assert str(caught.value) == f"{source('nope.xml')}: no such file"
    assert not caplog.records, "one failure, one line: the error"


def test_no_sources_gives_no_stories() -> None:
    assert gather([], Settings()) == []
