"""SpamAssassin's offline rules must not dislike the message we send."""

import datetime as dt
import email
import email.policy

import pytest

from digest.config import Settings
from digest.models import PREVIEW_RECIPIENT
from digest.pipeline import build_issue
from digest.prepare import prepare_message
from digest.spamscore import spam_score


@pytest.mark.parametrize("more_count", [4, 10])
def test_sample_message_scores_zero_or_below(tmp_path, more_count: int) -> None:
    settings = Settings(issues_dir=tmp_path / "issues", more_count=more_count)
    issue = build_issue(settings, date=dt.date(2026, 11, 26)).issue
    message = prepare_message(issue, settings).personalise(PREVIEW_RECIPIENT)
    report = spam_score(message)
    fired = ", ".join(f"{rule.name} {rule.points:+}" for rule in report.rules)
    assert report.score <= 0, fired


def test_the_report_names_the_rules_that_fired() -> None:
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = "FREE MONEY!!! ACT NOW"
    message["From"] = "winner@example.com"
    message["To"] = "you@example.com"
    message.set_content("Click here to claim your FREE prize!!! 100% GUARANTEED. Act now!")
    report = spam_score(message.as_bytes())
    assert report.score > 0
    assert report.rules
    assert all(rule.name.isupper() for rule in report.rules)
