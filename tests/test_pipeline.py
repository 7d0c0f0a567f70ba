"""The whole pipeline on the bundled sample: sources → selection → teasers → render → files."""

import datetime as dt
import email
import email.policy
import json
import logging
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import BuildError
from digest.pipeline import build_issue, rerender

DAY = dt.date(2026, 11, 26)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(issues_dir=tmp_path / "issues")


def parse_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_sample_builds_a_complete_issue_folder(settings: Settings) -> None:
    result = build_issue(settings, date=DAY)
    folder = result.folder
    assert folder == settings.issues_dir / "2026-11-26"
    assert {p.name for p in folder.iterdir()} == {
        "issue.json",
        "email.html",
        "email.txt",
        "email.eml",
        "images",
    }
    data = json.loads((folder / "issue.json").read_text())
    assert data["lead"]["title"].startswith("Valdoria and the Kestrel Isles")
    assert data["lead"]["image"]["url"] == "images/harbour-talks.jpg"
    assert data["lead"]["image"]["caption"]
    assert data["lead"]["image"]["credit"] == "Meridian Wire/Ola Brennsæter"
    assert len(data["more"]) == 4
    for story in [data["lead"], *data["more"]]:
        assert story["teaser"], story["title"]
        assert set(story) >= {"title", "url", "teaser", "image"}
    assert (folder / "images" / "harbour-talks.jpg").stat().st_size > 1000
    assert "Built 2026-11-26: 1 lead + 4 more" in result.summary


def test_preview_html_uses_local_images_and_mail_uses_absolute_ones(settings: Settings) -> None:
    folder = build_issue(settings, date=DAY).folder
    html = (folder / "email.html").read_text()
    assert 'src="images/harbour-talks.jpg"' in html
    message = parse_eml(folder / "email.eml")
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    sent_html = html_part.get_content()
    assert "https://example.com/issues/2026-11-26/images/harbour-talks.jpg" in sent_html
    assert 'src="images/' not in sent_html
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert message[header], header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"].startswith("The Daily Digest: Valdoria")


def test_html_in_a_source_title_is_text_in_the_email(settings: Settings) -> None:
    settings = settings.model_copy(update={"more_count": 7})
    folder = build_issue(settings, date=DAY).folder
    issue = json.loads((folder / "issue.json").read_text())
    titles = [story["title"] for story in issue["more"]]
    assert "Why the Northern Compact summit matters more than its communiqué" in titles
    html = (folder / "email.html").read_text()
    assert "<em>Northern" not in html
    assert "Northern Compact summit" in html
    assert "Northern Compact summit" in (folder / "email.txt").read_text()


def test_rebuilding_the_same_day_keeps_its_stories_and_the_next_day_skips_them(
    settings: Settings,
) -> None:
    first = build_issue(settings, date=DAY)
    again = build_issue(settings, date=DAY)
    assert again.issue.lead.title == first.issue.lead.title
    settings = settings.model_copy(update={"more_count": 2})
    big = build_issue(settings, date=DAY)
    tomorrow = build_issue(settings, date=DAY + dt.timedelta(days=1))
    sent = {s.title for s in big.issue.stories}
    assert not sent & {s.title for s in tomorrow.issue.stories}
    assert tomorrow.already_sent == 3


def test_nothing_new_is_an_error_and_writes_nothing(settings: Settings) -> None:
    build_issue(settings.model_copy(update={"more_count": 50}), date=DAY)
    with pytest.raises(BuildError, match="no new stories"):
        build_issue(settings, date=DAY + dt.timedelta(days=1))
    assert [p.name for p in settings.issues_dir.iterdir()] == ["2026-11-26"]


def test_a_render_that_fails_leaves_no_issue_folder(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "my-templates"
    broken.mkdir()
    (broken / "newsletter.txt.j2").write_text("{{ issue.lead.title }}\n{% for x in %}\n")
    settings = settings.model_copy(update={"templates_dir": broken})
    with pytest.raises(BuildError, match=r"newsletter\.txt\.j2"):
        build_issue(settings, date=DAY)
    assert not settings.issues_dir.exists() or list(settings.issues_dir.iterdir()) == []


def test_an_edited_issue_json_is_rendered_again(settings: Settings) -> None:
    folder = build_issue(settings, date=DAY).folder
    data = json.loads((folder / "issue.json").read_text())
    data["lead"]["teaser"] = "An editor's own teaser & nothing else."
    data["subject"] = "Edited subject"
    data["more"].reverse()
    (folder / "issue.json").write_text(json.dumps(data))
    result = rerender(settings, DAY)
    html = (folder / "email.html").read_text()
    assert "An editor&#39;s own teaser &amp; nothing else." in html or (
        "An editor’s own teaser &amp; nothing else." in html
        or "An editor's own teaser &amp; nothing else." in html
    )
    assert result.issue.subject == "Edited subject"
    assert (folder / "images" / "harbour-talks.jpg").exists()
    assert parse_eml(folder / "email.eml")["Subject"] == "Edited subject"


def test_an_email_too_large_for_gmail_is_built_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    items = "".join(
        f"<item><title>Story {n} on the harbour budget</title>"
        f"<link>https://news.example.com/{n}</link>"
        f"<pubDate>Wed, 25 Nov 2026 {n % 24:02d}:{n % 60:02d}:00 +0000</pubDate>"
        f"<description>{'The council met again on Tuesday to debate the plan. ' * 8}"
        "</description></item>"
        for n in range(50)
    )
    feed = tmp_path / "many.xml"
    feed.write_text(f'<rss version="2.0"><channel><title>Many</title>{items}</channel></rss>')
    settings = Settings(issues_dir=tmp_path / "issues", more_count=49, item_teaser_words=120)
    with caplog.at_level(logging.WARNING, logger="digest.pipeline"):
        result = build_issue(settings, date=DAY, sources=[str(feed)])
    assert len(result.issue.more) == 49
    assert "Gmail clips messages over 102 KB" in caplog.text
