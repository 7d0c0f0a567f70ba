"""Titles for untitled items, and links that tell one item from another."""

from __future__ import annotations

from pathlib import Path

from digest.config import Settings
from digest.sources import read_source
from digest.sources.items import title_from_text
from digest.sources.links import tidy_path


def test_an_untitled_posts_first_sentence_is_its_title_whole_when_it_can_be() -> None:
    assert title_from_text("<p>Oh it's #WebcomicDay again! Read it.</p>") == (
        "Oh it's #WebcomicDay again!"
    )
    sentence = (
        "I finally moved the whole studio to the new building on Main Street after three years."
    )
    assert title_from_text(f"<p>{sentence} It was a long week.</p>") == sentence


def test_a_long_first_sentence_is_cut_at_a_clause_break() -> None:
    text = (
        "After a long night of debugging the scheduler, which had been failing every Tuesday "
        "for a month, I found the cause in a stray time zone. It was fun."
    )
    assert title_from_text(text) == "After a long night of debugging the scheduler…"
    words = " ".join(f"word{n}" for n in range(30))
    assert title_from_text(words) == " ".join(f"word{n}" for n in range(12)) + "…"


def test_episodes_linking_to_the_show_page_keep_their_own_address(tmp_path: Path) -> None:
    feed = tmp_path / "show.xml"
    episodes = "".join(
        f"<item><title>Episode {n}</title><link>https://radio.example.org/capsule</link>"
        f'<enclosure url="https://media.example.org/capsule/{n}.mp3" type="audio/mpeg"/>'
        f"<description>Episode {n} of the show.</description></item>"
        for n in (1, 2, 3)
    )
    feed.write_text(
        "<rss version='2.0'><channel><title>Capsule</title>"
        f"<link>https://radio.example.org/capsule</link>{episodes}</channel></rss>",
        encoding="utf-8",
    )
    assert [story.url for story in read_source(str(feed), Settings())] == [
        "https://media.example.org/capsule/1.mp3",
        "https://media.example.org/capsule/2.mp3",
        "https://media.example.org/capsule/3.mp3",
    ]


def test_doubled_slashes_at_the_start_of_a_path() -> None:
    assert tidy_path("http://us.battle.net///en/blog/22771167") == (
        "http://us.battle.net/en/blog/22771167"
    )
    assert tidy_path("https://example.org/a//b") == "https://example.org/a//b"
