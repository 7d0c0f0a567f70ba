"""The editor's desk without HTTP: what the pages show, and the edits they make.

Every edit writes `issue.json` and re-renders with `digest.pipeline.rerender`, the same code as
`digest preview`, so what an editor sees is what `digest send` sends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from email import message_from_bytes, policy
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from digest.config import Settings
from digest.errors import BuildError
from digest.models import NAME_PLACEHOLDER, PREVIEW_RECIPIENT, TOKEN_PLACEHOLDER, Issue, Story
from digest.pipeline import BuildResult, rerender
from digest.state.engine import open_engine, state_url
from digest.state.ledger import Ledger
from digest.state.schema import FAILED, SENT
from digest.store import ISSUE_FILE, issue_dates, issue_dir, issue_to_json, load_issue
from digest.teaser import teaser_for

_DARK_QUERY = re.compile(r"prefers-color-scheme\s*:\s*dark", re.IGNORECASE)
_LIGHT_QUERY = re.compile(r"prefers-color-scheme\s*:\s*light", re.IGNORECASE)


class IssueSummary(BaseModel):
    """One line of the index."""

    model_config = ConfigDict(frozen=True)

    date: dt.date
    subject: str
    stories: int
    status: str
    """ "not sent", "sending: 40 sent, 2 failed, 958 pending", "sent to 1000" or "unreadable"."""


class StoryEdit(BaseModel):
    """One story's row of the edit form, by its position in the issue as the form showed it."""

    model_config = ConfigDict(extra="forbid")

    title: str
    teaser: str
    position: int = Field(ge=0)
    drop: bool = False


class IssueEdit(BaseModel):
    """Everything the edit form sends; `version` is the issue.json the editor saw."""

    model_config = ConfigDict(extra="forbid")

    version: str
    subject: str
    preheader: str
    lead: int = Field(ge=0)
    stories: list[StoryEdit]


def version_of(settings: Settings, date: dt.date) -> str:
    """A fingerprint of issue.json, so an edit from a stale page is refused, not merged blindly."""
    path = issue_dir(settings, date) / ISSUE_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def open_ledger(settings: Settings) -> Ledger | None:
    """The state database when there is one; the index never creates it."""
    url = state_url(settings)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return Ledger(open_engine(url))


def send_status(ledger: Ledger | None, date: dt.date) -> str:
    if ledger is None:
        return "not sent"
    key = date.isoformat()
    state = ledger.send_state(key)
    if state is None:
        return "not sent"
    counts = ledger.counts(key)
    failed = f" ({counts[FAILED]} failed)" if counts[FAILED] else ""
    if state.finished_at is None:
        pending = sum(counts.values()) - counts[SENT] - counts[FAILED]
        return f"sending: {counts[SENT]} sent, {counts[FAILED]} failed, {pending} pending"
    return f"sent to {counts[SENT]}{failed}"


def issue_status(settings: Settings, date: dt.date) -> str:
    ledger = open_ledger(settings)
    try:
        return send_status(ledger, date)
    finally:
        if ledger is not None:
            ledger.engine.dispose()


def list_issues(settings: Settings, *, with_status: bool = True) -> list[IssueSummary]:
    """Every issue, newest first; an unreadable issue.json is listed, not hidden."""
    ledger = open_ledger(settings) if with_status else None
    try:
        summaries = []
        for date in reversed(issue_dates(settings)):
            try:
                issue = load_issue(settings, date)
            except BuildError as exc:
                summaries.append(
                    IssueSummary(date=date, subject=str(exc), stories=0, status="unreadable")
                )
                continue
            summaries.append(
                IssueSummary(
                    date=date,
                    subject=issue.subject,
                    stories=len(issue.stories),
                    status=send_status(ledger, date) if with_status else "",
                )
            )
        return summaries
    finally:
        if ledger is not None:
            ledger.engine.dispose()


def personalised_preview(html: str, *, public: bool) -> str:
    """The preview HTML with its placeholders filled: the preview reader's, or for a public page
    none at all (no unsubscribe token, no name)."""
    if public:
        return html.replace(TOKEN_PLACEHOLDER, "").replace(NAME_PLACEHOLDER, "")
    return html.replace(TOKEN_PLACEHOLDER, PREVIEW_RECIPIENT.token).replace(
        NAME_PLACEHOLDER, PREVIEW_RECIPIENT.name
    )


def force_dark(html: str) -> str:
    """The email as a dark-mode client shows it: its dark media queries always on, light ones off.
    A frame cannot be told the reader prefers dark, so the preview rewrites the queries."""
    return _LIGHT_QUERY.sub("max-width: 0px", _DARK_QUERY.sub("min-width: 0px", html))


def message_headers(settings: Settings, date: dt.date) -> str:
    """The header block of email.eml, unfolded and decoded, as an editor wants to read it."""
    path = issue_dir(settings, date) / "email.eml"
    try:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    except FileNotFoundError:
        return ""
    return "\n".join(f"{name}: {' '.join(str(value).split())}" for name, value in parsed.items())


def save_issue(settings: Settings, issue: Issue) -> BuildResult:
    """Write issue.json (atomically: temporary file, rename), then render the folder again."""
    folder = issue_dir(settings, issue.date)
    handle, temporary = tempfile.mkstemp(prefix=".issue-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(issue_to_json(issue) + "\n")
        os.replace(temporary, folder / ISSUE_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return rerender(settings, issue.date)


def apply_edit(issue: Issue, edit: IssueEdit) -> Issue:
    """The issue as the form describes it: texts changed, stories dropped and put in order, the
    chosen lead first. Raises BuildError, worded for the editor, when the form makes no sense."""
    stories = issue.stories
    if len(edit.stories) != len(stories):
        raise BuildError("the form lists a different number of stories than the issue; reload")
    if edit.lead >= len(stories) or edit.stories[edit.lead].drop:
        raise BuildError("the lead story cannot be dropped; choose another lead first")
    if not edit.subject.strip():
        raise BuildError("the subject cannot be empty")
    kept: list[tuple[int, int, Story]] = []
    for index, (story, change) in enumerate(zip(stories, edit.stories, strict=True)):
        if change.drop:
            continue
        title = " ".join(change.title.split())
        if not title:
            raise BuildError(f"story {index + 1}: the title cannot be empty")
        teaser = change.teaser.replace("\r\n", "\n").strip()
        updated = story.model_copy(update={"title": title, "teaser": teaser, "lead": False})
        kept.append((change.position, index, updated))
    kept.sort(key=lambda item: (item[0], item[1]))
    lead = next(story for _, index, story in kept if index == edit.lead)
    more = [story for _, index, story in kept if index != edit.lead]
    return issue.model_copy(
        update={
            "subject": " ".join(edit.subject.split()),
            "preheader": " ".join(edit.preheader.split()),
            "lead": lead.model_copy(update={"lead": True}),
            "more": more,
        }
    )


def swap_story(issue: Issue, position: int, candidate: Story, settings: Settings) -> Issue:
    """Put `candidate` where the story at `position` was (0 is the lead), with a teaser of the
    right length for that place."""
    stories = issue.stories
    if not 0 <= position < len(stories):
        raise BuildError(f"there is no story {position + 1} to swap")
    words = settings.lead_teaser_words if position == 0 else settings.item_teaser_words
    placed = candidate.model_copy(
        update={"teaser": teaser_for(candidate, words, issue.language), "lead": position == 0}
    )
    stories[position] = placed
    return issue.model_copy(update={"lead": stories[0], "more": stories[1:]})
