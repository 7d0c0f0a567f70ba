import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import Image, Issue, Story
from digest.store import earlier_issues, issue_dates, load_issue, write_issue

DAY = dt.date(2026, 11, 26)


def make_issue(date: dt.date = DAY, title: str = "Lead story") -> Issue:
    return Issue(
        date=date,
        newsletter="Test Wire",
        subject=f"Test Wire: {title}",
        preheader="A preheader.",
        lead=Story(
            title=title, url="https://news.example/lead", teaser="Teaser.", text="Full text."
        ),
        more=[
            Story(
                title="Item",
                url="https://news.example/item",
                teaser="Item teaser.",
                image=Image(url="https://news.example/i.jpg", alt="An image"),
            )
        ],
    )


def test_write_then_load_round_trip_without_source_text(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    folder = write_issue(settings, make_issue(), {"email.html": b"<html></html>"}, {})
    assert folder == tmp_path / "issues" / "2026-11-26"
    assert (folder / "email.html").read_bytes() == b"<html></html>"
    loaded = load_issue(settings, DAY)
    assert loaded.lead.title == "Lead story"
    assert loaded.lead.text == ""
    assert loaded.more[0].image is not None
    assert "Full text." not in (folder / "issue.json").read_text()
    assert load_issue(settings).date == DAY


class Exploding(dict[str, bytes]):
    """A file set that fails halfway through being written, as a full disk would."""

    def items(self) -> Iterator[tuple[str, bytes]]:  # type: ignore[override]
        yield "email.html", b"<html>new</html>"
        raise OSError("No space left on device")


def test_a_failed_write_leaves_no_folder(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    with pytest.raises(OSError):
        write_issue(settings, make_issue(), Exploding(), {})
    assert list((tmp_path / "issues").iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_issue(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    write_issue(settings, make_issue(title="First"), {"email.html": b"old"}, {})
    with pytest.raises(OSError):
        write_issue(settings, make_issue(title="Second"), Exploding(), {})
    assert load_issue(settings, DAY).lead.title == "First"
    assert (tmp_path / "issues" / "2026-11-26" / "email.html").read_bytes() == b"old"
    assert [p.name for p in (tmp_path / "issues").iterdir()] == ["2026-11-26"]


def test_a_folder_left_aside_by_a_crash_is_recovered(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    folder = write_issue(settings, make_issue(), {}, {})
    folder.rename(folder.parent / ".2026-11-26.old-abc123")
    assert issue_dates(settings) == []
    assert load_issue(settings, DAY).lead.title == "Lead story"
    assert issue_dates(settings) == [DAY]


def test_images_are_copied_into_the_folder(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    picture = tmp_path / "p.jpg"
    picture.write_bytes(b"jpeg bytes")
    folder = write_issue(settings, make_issue(), {}, {"p.jpg": picture})
    assert (folder / "images" / "p.jpg").read_bytes() == b"jpeg bytes"


def test_missing_and_broken_issues_are_clear_errors(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    with pytest.raises(BuildError, match="no issue has been built yet"):
        load_issue(settings)
    with pytest.raises(BuildError, match="no issue for 2026-11-26"):
        load_issue(settings, DAY)
    folder = write_issue(settings, make_issue(), {}, {})
    (folder / "issue.json").write_text('{"date": "2026-11-26", "subjekt": "x"}')
    with pytest.raises(BuildError, match=r"issue\.json: .*"):
        load_issue(settings, DAY)


def test_earlier_issues_skips_later_and_unreadable_ones(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    for day in (dt.date(2026, 11, 24), dt.date(2026, 11, 25), DAY):
        write_issue(settings, make_issue(date=day, title=f"Lead {day}"), {}, {})
    (tmp_path / "issues" / "2026-11-24" / "issue.json").write_text("not json")
    (tmp_path / "issues" / "notes").mkdir()
    earlier = earlier_issues(settings, before=DAY)
    assert [issue.date for issue in earlier] == [dt.date(2026, 11, 25)]


def test_a_folder_that_is_not_an_issue_is_never_replaced_by_one(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    stranger = tmp_path / "issues" / DAY.isoformat()
    stranger.mkdir(parents=True)
    (stranger / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"issue folder: .* holds files digest did not write"):
        write_issue(settings, make_issue(), {}, {})
    assert [p.name for p in stranger.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in stranger.parent.iterdir()) == [DAY.isoformat()]

    (stranger / "notes.txt").unlink()
    write_issue(settings, make_issue(), {}, {})
    write_issue(settings, make_issue(title="Again"), {}, {})
    assert load_issue(settings, DAY).lead.title == "Again"


def test_an_issue_folder_never_replaces_one_holding_the_state_database(tmp_path: Path) -> None:
    folder = tmp_path / "issues" / DAY.isoformat()
    settings = Settings(issues_dir=tmp_path / "issues", state_url=f"sqlite:///{folder}/state.db")
    folder.mkdir(parents=True)
    (folder / "state.db").write_bytes(b"SQLite format 3\x00")
    (folder / "issue.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"holds .*state\.db: the state database"):
        write_issue(settings, make_issue(), {}, {})
    assert (folder / "state.db").read_bytes() == b"SQLite format 3\x00"
