"""Selection: which story leads and which fill "More For You", never repeating earlier issues."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from digest.errors import NoNewStories
from digest.models import Issue, Story
from digest.sources import canonical_url, title_key

log = logging.getLogger("digest.select")

_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


class Selection(BaseModel):
    """What selection decided, and what it had to leave out, so the caller can say so."""

    model_config = ConfigDict(extra="forbid")

    lead: Story
    more: list[Story]
    already_sent: int
    wanted_more: int


def story_keys(story: Story) -> set[str]:
    """Keys under which a story is recognised again: its canonical URL and its normalised title."""
    return {f"url:{canonical_url(story.url)}", f"title:{title_key(story.title)}"}


def sent_keys(issues: Iterable[Issue]) -> set[str]:
    keys: set[str] = set()
    for issue in issues:
        for story in issue.stories:
            keys |= story_keys(story)
    return keys


def select_stories(stories: list[Story], more_count: int, seen: set[str]) -> Selection:
    """The lead is the story marked lead (by a curated file), else the newest; More For You are the
    next `more_count`, newest first. Undated stories keep their source order after dated ones."""
    fresh = [story for story in stories if not (story_keys(story) & seen)]
    already_sent = len(stories) - len(fresh)
    if not fresh:
        detail = f" ({already_sent} were in earlier issues)" if already_sent else ""
        raise NoNewStories(f"no new stories to send{detail}")
    ordered = sorted(fresh, key=lambda story: story.published or _OLDEST, reverse=True)
    lead = next((story for story in ordered if story.lead), ordered[0])
    more = [story for story in ordered if story is not lead][:more_count]
    if len(more) < more_count:
        log.warning(
            "Only %d of %d More For You stories available; building with what there is",
            len(more),
            more_count,
        )
    return Selection(lead=lead, more=more, already_sent=already_sent, wanted_more=more_count)
