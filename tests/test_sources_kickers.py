"""Kickers come from editorial categories only."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import Settings
from digest.sources import read_source
from digest.sources.kickers import is_editorial, looks_like_path_or_identifier


@pytest.mark.parametrize(
    "term",
    [
        "Politics",
        "Kultur",
        "Williamsburg/ Greenpoint",
        "AC/DC",
        "iPhone",
        "tv",
        "r/Minecraft",
        "Community & Education",
        "Covid-19",
    ],
)
def test_sections_and_topics_are_kickers(term: str) -> None:
    assert is_editorial(term)


@pytest.mark.parametrize(
    "term",
    [
        "Business/Industries/Publishing/Publishers/Nonfiction/",
        "/news/world",
        "adwords_api",
        "post",
        "Uncategorized",
        "General",
        "Most Popular",
        "adfree",
        "https://example.com/x",
        "12345",
        "",
        "   ",
    ],
)
def test_placeholders_paths_and_identifiers_are_not(term: str) -> None:
    assert not is_editorial(term)


def test_faceted_and_tag_categories_are_not_kickers() -> None:
    assert not is_editorial("Past Hour", label="Age")
    assert not is_editorial("Magnitude 2", label="Magnitude")
    assert is_editorial("Minecraft", label="r/Minecraft")
    assert not is_editorial("St Mary's Church", scheme="https://health.example.org/tag/")


def test_path_or_identifier() -> None:
    assert looks_like_path_or_identifier("Business/Industries/")
    assert looks_like_path_or_identifier("page_type")
    assert not looks_like_path_or_identifier("Brooklyn Heights/ DUMBO")


def test_a_category_on_every_item_is_no_kicker(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://s.example.org/{n}</link>"
        f"<category>TC</category><category>{topic}</category>"
        "<description>Words.</description></item>"
        for n, topic in enumerate(["Mobile", "Startups", "adwords_api"])
    )
    feed = tmp_path / "feed.xml"
    feed.write_text(
        f"<rss version='2.0'><channel><title>T</title><link>https://s.example.org/</link>"
        f"{items}</channel></rss>",
        encoding="utf-8",
    )
    assert [story.kicker for story in read_source(str(feed), Settings())] == [
        "Mobile",
        "Startups",
        "",
    ]
