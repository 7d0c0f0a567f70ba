import datetime as dt
import logging

import pytest

from digest.errors import BuildError
from digest.models import Issue, Story
from digest.select import select_stories, sent_keys


def story(n: int, *, day: int | None = None, lead: bool = False, title: str = "") -> Story:
    published = dt.datetime(2026, 11, day, 8, tzinfo=dt.UTC) if day else None
    return Story(
        title=title or f"Story {n}",
        url=f"https://news.example/{n}",
        published=published,
        lead=lead,
    )


def titles(stories: list[Story]) -> list[str]:
    return [s.title for s in stories]


def test_newest_leads_and_the_next_fill_more_for_you() -> None:
    stories = [story(1, day=20), story(2, day=25), story(3, day=22), story(4, day=21)]
    chosen = select_stories(stories, 2, seen=set())
    assert chosen.lead.title == "Story 2"
    assert titles(chosen.more) == ["Story 3", "Story 4"]


def test_a_story_marked_lead_leads_even_when_older() -> None:
    stories = [story(1, day=25), story(2, day=20, lead=True), story(3, day=22)]
    chosen = select_stories(stories, 4, seen=set())
    assert chosen.lead.title == "Story 2"
    assert titles(chosen.more) == ["Story 1", "Story 3"]


def test_undated_stories_keep_source_order_after_dated_ones() -> None:
    stories = [story(1), story(2, day=21), story(3), story(4)]
    chosen = select_stories(stories, 3, seen=set())
    assert chosen.lead.title == "Story 2"
    assert titles(chosen.more) == ["Story 1", "Story 3", "Story 4"]


def test_stories_from_earlier_issues_are_skipped_by_url_or_title() -> None:
    earlier = Issue(
        date=dt.date(2026, 11, 25),
        newsletter="N",
        subject="S",
        preheader="P",
        lead=Story(title="Old lead", url="https://news.example/1/?utm_source=rss"),
        more=[Story(title="Story 2!", url="https://elsewhere.example/x")],
    )
    stories = [story(1, day=25), story(2, day=24), story(3, day=23)]
    chosen = select_stories(stories, 4, seen=sent_keys([earlier]))
    assert chosen.lead.title == "Story 3"
    assert chosen.more == []
    assert chosen.already_sent == 2


def test_fewer_stories_than_asked_builds_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="digest.select"):
        chosen = select_stories([story(1, day=2), story(2, day=3)], 4, seen=set())
    assert len(chosen.more) == 1
    assert "Only 1 of 4" in caplog.text


def test_no_new_story_is_an_error() -> None:
    with pytest.raises(BuildError, match="no new stories"):
        select_stories([], 4, seen=set())
    only = story(1, day=3)
    with pytest.raises(BuildError, match=r"1 were in earlier issues"):
        select_stories([only], 4, seen=sent_keys([_issue_with(only)]))


def _issue_with(lead: Story) -> Issue:
    return Issue(date=dt.date(2026, 1, 1), newsletter="N", subject="S", preheader="P", lead=lead)
