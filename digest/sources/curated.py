"""Curated files: the stories an editor picked by hand, in YAML or JSON.

Two shapes are accepted:

    lead:                      stories:
      title: ...                 - title: ...
      url: ...                     url: ...
    more:                          lead: true     # only this marks the lead
      - title: ...               - title: ...
        url: ...                   url: ...

In a flat `stories:` list the first entry is NOT the lead unless it says `lead: true`: the
selection stage picks the lead otherwise. Every model forbids unknown fields, so a typo such as
`titel:` stops the build with `curated.yaml: more[2].titel: unknown field` instead of silently
dropping a headline. An editor's `teaser` is kept exactly as written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from digest.errors import SourceError
from digest.models import Image, Story
from digest.sources.fetch import Fetched
from digest.sources.items import Base, aware, describe, is_web_url, make_image, plain

CURATED_KEYS = frozenset({"lead", "more", "stories"})


class CuratedImage(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    url: str = Field(min_length=1)
    alt: str = ""
    caption: str = ""
    credit: str = ""
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class CuratedStory(BaseModel):
    """One story as an editor writes it; `image` may be just a URL or path."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    title: str = Field(min_length=1)
    url: str = Field(min_length=1)
    teaser: str = ""
    text: str = ""
    image: CuratedImage | None = None
    caption: str = ""
    credit: str = ""
    kicker: str = ""
    author: str = ""
    published: dt.datetime | None = None
    lead: bool = False

    @field_validator("image", mode="before")
    @classmethod
    def _image_as_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value

    @field_validator("published", mode="before")
    @classmethod
    def _date_as_midnight(cls, value: Any) -> Any:
        """YAML reads `2026-11-26` as a date; a story published that day starts at midnight UTC."""
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                return value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
        return value

    @model_validator(mode="after")
    def _caption_needs_image(self) -> CuratedStory:
        if (self.caption or self.credit) and self.image is None:
            raise ValueError("caption and credit describe an image, but there is no image")
        return self


class CuratedFile(BaseModel):
    """A curated file: `lead` and `more`, or a flat `stories` list (not both)."""

    model_config = ConfigDict(extra="forbid")

    lead: CuratedStory | None = None
    more: list[CuratedStory] = Field(default_factory=list)
    stories: list[CuratedStory] = Field(default_factory=list)

    @field_validator("more", "stories", mode="before")
    @classmethod
    def _empty_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @model_validator(mode="after")
    def _one_shape(self) -> CuratedFile:
        if self.stories and (self.lead or self.more):
            raise ValueError("use either lead/more or stories, not both")
        if not (self.lead or self.more or self.stories):
            raise ValueError("no stories: write a lead and more, or a stories list")
        listed = [*self.more, *self.stories]
        if sum(story.lead for story in listed) + (self.lead is not None) > 1:
            raise ValueError("more than one story is marked as the lead")
        return self

    def entries(self) -> list[tuple[str, CuratedStory, bool]]:
        """Each story with its path in the file (for messages) and whether it is the lead."""
        found = [("lead", self.lead, True)] if self.lead else []
        found += [(f"more[{i}]", story, story.lead) for i, story in enumerate(self.more)]
        found += [(f"stories[{i}]", story, story.lead) for i, story in enumerate(self.stories)]
        return found


def is_curated(data: object) -> bool:
    return isinstance(data, dict) and bool(CURATED_KEYS & set(data))


def parse_curated(data: object, fetched: Fetched, location: str) -> list[Story]:
    """Stories of a decoded curated file, in the order the editor wrote them."""
    if not isinstance(data, dict):
        raise SourceError(f"{location}: expected a mapping with lead/more or stories at the top")
    try:
        curated = CuratedFile.model_validate(data)
    except ValidationError as exc:
        raise SourceError(f"{location}: {describe(exc)}") from None
    base = Base(url=fetched.url)
    return [
        _story(entry, path, is_lead, base, location) for path, entry, is_lead in curated.entries()
    ]


def _story(entry: CuratedStory, path: str, is_lead: bool, base: Base, location: str) -> Story:
    url = base.link(entry.url)
    if not is_web_url(url):
        raise SourceError(f"{location}: {path}.url: expected an http(s) URL, got {entry.url!r}")
    title = plain(entry.title)
    if not title:
        raise SourceError(f"{location}: {path}.title: no words, only {entry.title!r}")
    return Story(
        title=title,
        url=url,
        text=entry.text,
        teaser=entry.teaser.strip(),
        image=_image(entry, title, base, f"{location}: {path}.image"),
        kicker=plain(entry.kicker),
        author=plain(entry.author),
        published=aware(entry.published) if entry.published else None,
        source=location,
        lead=is_lead,
    )


def _image(entry: CuratedStory, title: str, base: Base, where: str) -> Image | None:
    if entry.image is None:
        return None
    url = base.image(_local_path_as_uri(entry.image.url, base))
    if not url:
        raise SourceError(f"{where}: expected an http(s) URL or a path, got {entry.image.url!r}")
    return make_image(
        url,
        title,
        alt=entry.image.alt,
        caption=entry.image.caption or entry.caption,
        credit=entry.image.credit or entry.credit,
        width=entry.image.width,
        height=entry.image.height,
    )


def _local_path_as_uri(value: str, base: Base) -> str:
    """An editor's `photos/my pic.jpg` next to a local curated file, as a quoted file URI."""
    if not base.is_local or len(urlsplit(value).scheme) > 1:
        return value
    folder = Path(url2pathname(urlsplit(base.url).path)).parent
    return (folder / Path(value).expanduser()).resolve().as_uri()
