"""The whole pipeline on one screen: sources → selection → articles and images of the selected
stories → teasers → issue → render → files.

The scheduler and the CLI only call these functions."""

from __future__ import annotations

import datetime as dt
import logging
from importlib.resources import files as package_files
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from digest.check import GMAIL_CLIP_BYTES
from digest.compose import compose_issue
from digest.config import Settings
from digest.enrich import enrich_selection
from digest.images import localize_images
from digest.models import PREVIEW_RECIPIENT, Issue
from digest.prepare import prepare_message
from digest.remote_images import check_selection_images
from digest.render import render_email
from digest.select import select_stories, sent_keys
from digest.sources import gather
from digest.store import earlier_issues, issue_dir, load_issue, write_issue

log = logging.getLogger("digest.pipeline")


class BuildResult(BaseModel):
    """What a build did, for the one-line summary."""

    model_config = ConfigDict(extra="forbid")

    issue: Issue
    folder: Path
    gathered: int = 0
    already_sent: int = 0

    @property
    def summary(self) -> str:
        gathered = f"from {self.gathered} stories gathered, " if self.gathered else ""
        skipped = f"{self.already_sent} already sent, " if self.already_sent else ""
        return (
            f"Built {self.issue.date.isoformat()}: 1 lead + {len(self.issue.more)} more "
            f"({gathered}{skipped}subject {self.issue.subject!r}) in {self.folder}"
        )


def sample_feed() -> str:
    """The bundled sample feed: the source when none is configured, so digest works offline."""
    return str(package_files("digest") / "sample" / "feed.xml")


def today(settings: Settings) -> dt.date:
    return dt.datetime.now(settings.zone).date()


def build_issue(
    settings: Settings, *, date: dt.date | None = None, sources: list[str] | None = None
) -> BuildResult:
    """Gather, select, write teasers, render and save the issue of `date` (today by default)."""
    date = date or today(settings)
    locations = sources or settings.sources or [sample_feed()]
    stories = gather(locations, settings)
    selection = select_stories(
        stories, settings.more_count, sent_keys(earlier_issues(settings, before=date))
    )
    selection = enrich_selection(selection, settings)
    selection = check_selection_images(selection, settings)
    issue = compose_issue(selection, settings, date)
    folder = publish(issue, settings)
    return BuildResult(
        issue=load_issue(settings, date),
        folder=folder,
        gathered=len(stories),
        already_sent=selection.already_sent,
    )


def rerender(settings: Settings, date: dt.date | None = None) -> BuildResult:
    """Render again from `issue.json`, as an editor changed it by hand."""
    issue = load_issue(settings, date)
    return BuildResult(issue=issue, folder=publish(issue, settings))


def publish(issue: Issue, settings: Settings) -> Path:
    """Render the issue and write its folder (issue.json, email.html/.txt/.eml, images)."""
    issue, images = localize_images(issue, issue_dir(settings, issue.date))
    preview = render_email(issue, settings)
    size = len(preview.html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        log.warning(
            "The email is %.0f KB: Gmail clips messages over 102 KB, hiding the footer; "
            "lower DIGEST_MORE_COUNT or the teaser budgets",
            size / 1024,
        )
    message = prepare_message(issue, settings, preview).personalise(PREVIEW_RECIPIENT)
    files = {
        "email.html": preview.html.encode("utf-8"),
        "email.txt": preview.text.encode("utf-8"),
        "email.eml": message,
    }
    return write_issue(settings, issue, files, images)
