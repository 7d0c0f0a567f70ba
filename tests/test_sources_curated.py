"""Curated files an editor writes: both shapes, in YAML and JSON, and the typos they make."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.sources import read_source
from tests.support.http_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def test_lead_and_more_in_yaml() -> None:
    location = str(FIXTURES / "curated.yaml")
    lead, library, picture, plain = read_source(location, Settings())

    assert lead.lead and not any(story.lead for story in (library, picture, plain))
    assert lead.title == "Harbour reopens & boats return"  # HTML and entities made text
    assert lead.teaser == (
        "After two years of works, the harbour is open again — and it looks great."
    )
    assert lead.kicker == "Local"
    assert lead.author == "Desk Editor"
    assert lead.published == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    assert lead.source == location
    assert lead.image is not None
    assert lead.image.url == (FIXTURES / "images" / "harbour.png").resolve().as_uri()
    assert lead.image.alt == "Boats moored in the harbour at dawn"
    assert lead.image.caption == "The harbour at dawn on reopening day."
    assert lead.image.credit == "Photo: R. Wiggum"
    assert (lead.image.width, lead.image.height) == (64, 48)

    assert library.url == "https://record.example.com/a/1?utm_source=newsletter"
    assert library.teaser == "The library now opens until 9pm on weekdays."
    assert picture.image is not None
    assert picture.image.url == "https://pics.example.com/gallery/cover.jpg"
    assert picture.image.caption == picture.image.alt == "Cover of this week's gallery."
    assert picture.image.credit == "Pics Agency"
    assert picture.published == dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)
    assert (plain.teaser, plain.image, plain.published) == ("", None, None)


def test_flat_stories_in_json_lead_only_when_marked() -> None:
    first, chosen, third = read_source(str(FIXTURES / "curated-stories.json"), Settings())
    assert not first.lead
    assert chosen.lead
    assert chosen.teaser == "Chosen by hand."
    assert chosen.image is not None
    assert chosen.image.alt == "The editor's lead"
    assert third.text == "<p>Body text.</p>"


def test_flat_stories_without_a_lead_and_a_path_with_spaces() -> None:
    walk, swim = read_source(str(FIXTURES / "curated-flat.yaml"), Settings())
    assert not walk.lead and not swim.lead
    assert walk.image is not None
    assert walk.image.url == (FIXTURES / "photos" / "my walk.jpg").resolve().as_uri()
    assert "%20" in walk.image.url


def test_typo_names_the_file_and_the_field() -> None:
    location = str(FIXTURES / "curated-typo.yaml")
    with pytest.raises(SourceError) as caught:
        read_source(location, Settings())
    message = str(caught.value)
    assert message.startswith(f"{location}: ")
    assert "more[2].titel: unknown field" in message
    assert "more[2].title: required field missing" in message
    assert "\n" not in message


def test_curated_over_http_resolves_against_its_url(http_server: LocalServer) -> None:
    url = http_server.url("/sources/curated-remote.yaml")
    [story] = read_source(url, Settings())
    assert story.url == http_server.url("/stories/our-site")
    assert story.image is not None
    assert story.image.url == http_server.url("/sources/images/harbour.png")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "lead:\n  title: A\n  url: https://a.example/\nstories:\n  - {title: B, url: https://b.example/}\n",
            "use either lead/more or stories, not both",
        ),
        ("stories: []\n", "no stories"),
        (
            "stories:\n  - {title: A, url: https://a.example/, lead: true}\n"
            "  - {title: B, url: https://b.example/, lead: true}\n",
            "more than one story is marked as the lead",
        ),
        (
            "more:\n  - {title: A, url: https://a.example/, caption: Orphan}\n",
            "more[0]: caption and credit describe an image",
        ),
        (
            "more:\n  - {title: A, url: https://a.example/, published: yesterday}\n",
            "more[0].published: Input should be a valid datetime",
        ),
        (
            "more:\n  - {title: A, url: javascript:alert(1)}\n",
            "more[0].url: expected an http(s) URL",
        ),
        (
            "lead:\n  title: A\n  url: https://a.example/\n  image: {url: x.jpg, size: 3}\n",
            "lead.image.size: unknown field",
        ),
        ("storys:\n  - {title: A, url: https://a.example/}\n", "storys: unknown field"),
        ("- just\n- a list\n", "expected a mapping with lead/more or stories"),
        ("lead: [unclosed\n", "not valid YAML"),
        (
            "more:\n  - {title: A, url: https://a.example/, published: 2026-02-30}\n",
            "not valid YAML: day is out of range for month (line 2)",
        ),
        (
            "lead: {title: A, url: https://a.example/, image: {url: a.jpg, width: 9"
            + "9" * 5000
            + "}}\n",
            "not valid YAML: a number too long to read (line 1)",
        ),
        ("lead: {title: '<b></b>', url: https://a.example/}\n", "lead.title: no words"),
        ("more:\n  - {title: '  ', url: https://a.example/}\n", "more[0].title: no words"),
        (
            'lead:\n  title: A\n  url: https://a.example/\n  "cap\\ntion": B\n',
            "lead['cap\\ntion']: unknown field",
        ),
    ],
)
def test_mistakes_fail_loudly(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "curated.yaml"
    path.write_text(text)
    with pytest.raises(SourceError) as caught:
        read_source(str(path), Settings())
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_curated_yaml_is_recognised_by_content(http_server: LocalServer) -> None:
    body = b"lead:\n  title: Today\n  url: https://today.example.com/\n"
    [story] = read_source(http_server.add("/picks", body, "text/plain"), Settings())
    assert story.lead
    assert story.title == "Today"
