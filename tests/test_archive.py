"""`digest archive`: a static public archive of built issues, with no personal tokens in it."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from digest.archive import MARK, write_archive
from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import NAME_PLACEHOLDER, PREVIEW_RECIPIENT, TOKEN_PLACEHOLDER
from digest.store import issue_dir
from tests.test_cli import digest
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
    write_archive(settings, out)
    (out / "stale.html").write_text("old", encoding="utf-8")
    (issue_dir(settings, EARLIER) / "email.html").unlink()
    result = write_archive(settings, out)
    assert result.pages == 1 and result.skipped == [f"{EARLIER.isoformat()} (not rendered)"]
    assert not (out / "stale.html").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        MARK,
        TODAY.isoformat(),
        "desk.css",
        "index.html",
    ]
    assert not list(tmp_path.glob(".site.*"))


def test_an_empty_folder_may_become_the_archive(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    assert write_archive(settings, tmp_path / "site").pages == 2


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else b"/"
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("out", "problem"),
    [
        (".", r"--out: \. is the current folder"),
        ("..", r"--out: \.\. holds .*: the current folder"),
        ("issues", r"--out: issues is the issues folder \(DIGEST_ISSUES_DIR\)"),
        ("data", r"--out: data holds .*list\.csv: DIGEST_SUBSCRIBERS"),
        ("db", r"--out: db holds .*state\.db: the state database \(DIGEST_STATE_URL\)"),
        ("curated", r"--out: curated holds .*today\.yaml: the source curated/today\.yaml"),
        ("mine", r"--out: mine holds files digest did not write"),
        ("notes.txt", r"--out: notes\.txt is a file, not a folder"),
        ("link", r"--out: link is the current folder"),
    ],
)
def test_the_archive_never_replaces_a_folder_it_did_not_write(
    isolated_environment: Path, out: str, problem: str
) -> None:
    """`digest archive --out .` once deleted the project: subscribers, state database, issues."""
    project = isolated_environment
    for name in ("data/list.csv", "db/state.db", "curated/today.yaml", "mine/keep.html"):
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text("precious", encoding="utf-8")
    (project / "notes.txt").write_text("precious", encoding="utf-8")
    (project / "link").symlink_to(project)
    settings = Settings(
        issues_dir=Path("issues"),
        subscribers=Path("data/list.csv"),
        state_url="sqlite:///db/state.db",
        sources=["curated/today.yaml", "https://example.com/feed.xml"],
    )
    publish_fixture(settings, TODAY, "Today")
    before = _snapshot(project.parent)
    with pytest.raises(ConfigError, match=problem) as caught:
        write_archive(settings, Path(out))
    assert "\n" not in str(caught.value)
    assert _snapshot(project.parent) == before


def test_archive_into_the_project_folder_is_one_line_and_touches_nothing(
    isolated_environment: Path,
) -> None:
    project = isolated_environment
    (project / "subscribers.csv").write_text("email\nada@example.com\n", encoding="utf-8")
    assert digest("build", "--date", "2026-11-26", cwd=project).returncode == 0
    (project / "state.db").write_bytes(b"SQLite format 3\x00")
    before = _snapshot(project)
    run = digest("archive", "--out", ".", cwd=project, DIGEST_SUBSCRIBERS="subscribers.csv")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: --out: . is the current folder; choose another folder"
    ]
    assert _snapshot(project) == before


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
