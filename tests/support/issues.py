"""A published issue folder for tests that send: what `digest build` leaves in ./issues."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from digest.config import load_settings
from digest.models import Issue, Story
from digest.pipeline import publish

ISSUE_DATE = dt.date(2026, 11, 26)


def publish_issue(issues_dir: Path) -> Path:
    """The 26 November 2026 issue (a lead and one more story), published into `issues_dir`."""
    lead = Story(title="Harbour talks resume", url="https://news.example.com/harbour", lead=True)
    issue = Issue(
        date=ISSUE_DATE,
        newsletter="The Daily Digest",
        subject="The Daily Digest: Harbour talks resume",
        preheader="Today's news",
        lead=lead,
        more=[Story(title="Second story", url="https://news.example.com/2")],
    )
    return publish(issue, load_settings(issues_dir=issues_dir))
