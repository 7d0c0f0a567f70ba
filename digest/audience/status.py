"""What a subscriber row says about a person: the status (what mail they get), where they came
from, and their proof of consent. Shared by the list reader (`csv_import`) and the store."""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel, ConfigDict


class Status(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


PENDING, ACTIVE = Status.PENDING, Status.ACTIVE
UNSUBSCRIBED, BOUNCED, COMPLAINED = Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED
LEFT: tuple[Status, ...] = (UNSUBSCRIBED, BOUNCED, COMPLAINED)
"""The statuses of addresses that left, weakest first."""


class Source(enum.StrEnum):
    """How an address came onto the list."""

    IMPORT = "import"
    FORM = "form"
    CLI = "cli"


class Consent(BaseModel):
    """Proof that a person asked for the newsletter: when, from where, on which form, having
    been shown which words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: dt.datetime
    ip: str
    user_agent: str
    url: str
    text: str
