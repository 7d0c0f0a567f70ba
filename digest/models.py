"""The contract between pipeline stages: each stage takes and returns these models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
"""A BCP 47 tag as digest takes it (`de`, `pt-BR`): nothing that could name a path, since the
language picks a catalog file (`issue.json`'s `language: ../../srv/evil` loaded a foreign one)."""


class Image(BaseModel):
    """A picture with what the email needs to show it well: absolute URL, alt text, dimensions."""

    model_config = ConfigDict(extra="forbid")

    url: str
    alt: str = ""
    caption: str = ""
    credit: str = ""
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)


class Story(BaseModel):
    """One news item as a source gives it; `teaser` is filled by the teaser stage
    (or by an editor, whose teaser is kept as written)."""

    model_config = ConfigDict(extra="forbid")

    title: str
    url: str
    text: str = ""
    teaser: str = ""
    image: Image | None = None
    kicker: str = ""
    author: str = ""
    published: dt.datetime | None = None
    source: str = ""
    lead: bool = False
    language: str = ""
    """BCP 47 tag of the story's text as its source declares it ("" when it does not)."""


class Issue(BaseModel):
    """One day's newsletter, as saved to `issue.json` and edited by editors."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    newsletter: str
    subject: str
    preheader: str
    language: str = Field(default="en", pattern=LANGUAGE_TAG)
    lead: Story
    more: list[Story] = Field(default_factory=list)

    @property
    def stories(self) -> list[Story]:
        return [self.lead, *self.more]


class RenderedEmail(BaseModel):
    """The two bodies of an issue, rendered once and shared by every recipient."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    html: str
    text: str


TOKEN_PLACEHOLDER = "DIGESTUNSUBSCRIBETOKEN"
"""Stands for a subscriber's unsubscribe token in rendered bodies; substituted per recipient."""

NAME_PLACEHOLDER = "DIGESTSUBSCRIBERNAME"
"""Stands for a subscriber's name in rendered bodies; substituted (escaped) per recipient."""


class Recipient(BaseModel):
    """Who one outgoing message is for; all a sender learns of a subscriber."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str = ""
    token: str


PREVIEW_RECIPIENT = Recipient(email="reader@example.com", name="Reader", token="preview-token")


class Subscriber(BaseModel):
    """One valid row of the list. `email` is the address as mail goes to it (an internationalised
    domain in its ASCII form); `key` is what makes two rows the same person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    name: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    line: int = 0

    @property
    def key(self) -> str:
        return self.email.lower()
