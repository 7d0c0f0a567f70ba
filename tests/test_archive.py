"""`digest archive`: a static public archive of built issues, with no personal tokens in it."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from digest.archive import write_archive
from digest.config import Settings
from digest.errors import BuildError
from digest.models import NAME_PLACEHOLDER, PREVIEW_RECIPIENT, TOKEN_PLACEHOLDER
from digest.store import issue_dir
from tests.test_web import EARLIER, TODAY, publish_fixture


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(issues_dir=tmp_path / "issues")
    publish_fixture(settings, EARLIER, "Last week & more")
    publish_fixture(settings, TODAY, "This week's <news>")
    return settings


def test_the_archive_has_an_index_and_a_page_per_issue(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = write_archive(settings, out)
    assert result.pages == 2 and result.skipped == []
    index = lxml.html.parse(str(out / "index.html")).getroot()
    links = [
        (a.get("href"), a.text_content()) for a in index.iter("a") if a.get("href") != "index.html"
    ]
    assert links == [
        (f"{TODAY.isoformat()}/", TODAY.isoformat()),
        (f"{EARLIER.isoformat()}/", EARLIER.isoformat()),
    ]
    assert "This week's <news>" in index.text_content()
    assert (out / "desk.css").is_file()
    for date in (TODAY, EARLIER):
        page = out / date.isoformat() / "index.html"
        html = page.read_text(encoding="utf-8")
        for secret in (TOKEN_PLACEHOLDER, NAME_PLACEHOLDER, PREVIEW_RECIPIENT.token):
            assert secret not in html
        tree = lxml.html.fromstring(html)
        for image in tree.iter("img"):
            assert (page.parent / image.get("src")).is_file()
        assert 'https://example.com/unsubscribe?token="' in html


def test_the_archive_replaces_the_previous_one_whole(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "stale.html").write_text("old", encoding="utf-8")
    (issue_dir(settings, EARLIER) / "email.html").unlink()
    result = write_archive(settings, out)
    assert result.pages == 1 and result.skipped == [f"{EARLIER.isoformat()} (not rendered)"]
    assert not (out / "stale.html").exists()
    assert sorted(p.name for p in out.iterdir()) == [TODAY.isoformat(), "desk.css", "index.html"]
    assert not list(tmp_path.glob(".site.*"))


def test_a_page_that_keeps_a_token_is_refused(settings: Settings, tmp_path: Path) -> None:
    email = issue_dir(settings, TODAY) / "email.html"
    email.write_text(email.read_text(encoding="utf-8") + PREVIEW_RECIPIENT.token, encoding="utf-8")
    with pytest.raises(BuildError, match="still holds 'preview-token'"):
        write_archive(settings, tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_no_issues_makes_an_empty_archive(tmp_path: Path) -> None:
    result = write_archive(Settings(issues_dir=tmp_path / "none"), tmp_path / "site")
    assert result.pages == 0
    assert "No issues yet" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
