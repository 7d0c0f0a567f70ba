"""The issues folder: one folder per issue, written atomically, read back for re-renders
and de-duplication."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import Issue

ISSUE_FILE = "issue.json"
IMAGES_DIR = "images"
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def issue_dir(settings: Settings, date: dt.date) -> Path:
    return settings.issues_dir / date.isoformat()


def image_file(folder: Path, name: str) -> Path | None:
    """The picture `images/<name>` of the issue folder `folder`, resolved; None when there is no
    such file or reaching it leaves the folder (a `../`, or a symlink for the file or for
    `images/` itself: a symlinked `images/` once let the desk serve /etc/passwd)."""
    inside = folder.resolve() / IMAGES_DIR
    try:
        path = (inside / name).resolve()
    except (OSError, ValueError):
        return None
    return path if path.parent == inside and path.is_file() else None


def issue_images(folder: Path) -> list[Path]:
    """Every picture in the issue folder's `images/`, none reached through a symlink."""
    inside = folder / IMAGES_DIR
    if inside.is_symlink() or not inside.is_dir():
        return []
    found = (image_file(folder, entry.name) for entry in sorted(inside.iterdir()))
    return [path for path in found if path is not None]


def invalid_rows_path(settings: Settings, date: dt.date) -> Path:
    """The subscriber rows a send of `date` skipped: beside the issue's folder, not in it, since
    a re-render replaces the folder whole."""
    return settings.issues_dir / f"{date.isoformat()}.invalid-subscribers.csv"


def _recover(target: Path) -> None:
    """Put back an issue folder that a crash left aside between the two renames of a replace."""
    if target.exists():
        return
    for old in sorted(target.parent.glob(f".{target.name}.old-*")):
        old.rename(target)
        return


def issue_dates(settings: Settings) -> list[dt.date]:
    """Dates of every published issue, oldest first."""
    if not settings.issues_dir.is_dir():
        return []
    dates = []
    for entry in settings.issues_dir.iterdir():
        if entry.name.startswith("."):
            continue
        try:
            date = dt.date.fromisoformat(entry.name)
        except ValueError:
            continue
        if (entry / ISSUE_FILE).is_file():
            dates.append(date)
    return sorted(dates)


def load_issue(settings: Settings, date: dt.date | None = None) -> Issue:
    """The saved issue of `date` (the newest when None), as an editor may have changed it."""
    if date is None:
        dates = issue_dates(settings)
        if not dates:
            raise BuildError(
                f"{settings.issues_dir}: no issue has been built yet (run `digest build`)"
            )
        date = dates[-1]
    folder = issue_dir(settings, date)
    _recover(folder)
    path = folder / ISSUE_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(f"{path}: no issue for {date.isoformat()} (run `digest build`)") from None
    try:
        return Issue.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise BuildError(f"{path}: {where}: {first['msg']}") from None


def earlier_issues(settings: Settings, before: dt.date) -> list[Issue]:
    """Every readable issue dated before `before`; an unreadable one does not stop a build."""
    issues = []
    for date in issue_dates(settings):
        if date >= before:
            continue
        try:
            issues.append(load_issue(settings, date))
        except BuildError:
            continue
    return issues


def issue_to_json(issue: Issue) -> str:
    """`issue.json` as editors see it: teasers in, the stories' full source text left out."""
    return issue.model_dump_json(
        indent=2,
        exclude={"lead": {"text"}, "more": {"__all__": {"text"}}},
    )


def _kept_paths(settings: Settings) -> list[tuple[Path, str]]:
    """What no folder digest replaces may be or hold, each with how to name it."""
    kept = [
        (Path.cwd(), "the current folder"),
        (settings.issues_dir, "the issues folder (DIGEST_ISSUES_DIR)"),
    ]
    configured = {
        "the state database (DIGEST_STATE_URL)": settings.state_database_file,
        "DIGEST_SUBSCRIBERS": settings.subscribers,
        "DIGEST_SUPPRESSIONS": settings.suppressions,
        "DIGEST_TEMPLATES_DIR": settings.templates_dir,
        "DIGEST_DKIM_KEY_FILE": settings.dkim_key_file,
        "DIGEST_SMTP_CA_FILE": settings.smtp_ca_file,
        "DIGEST_MAILBOX_CA_FILE": settings.mailbox_ca_file,
        "DIGEST_CACHE_DIR": settings.cache_dir,
    }
    kept.extend((path, name) for name, path in configured.items() if path is not None)
    kept.extend(
        (Path(source), f"the source {source}")
        for source in settings.sources
        if not _URL_SCHEME.match(source) and "\x00" not in source  # a NUL names no file
    )
    return kept


def check_replaceable(
    target: Path, settings: Settings, *, ours: Callable[[Path], bool], what: str
) -> None:
    """Raise ConfigError, touching nothing, unless `target` may be replaced whole: it is missing,
    an empty folder, or one digest wrote before (`ours`), and it neither is nor holds the current
    folder, the issues folder, the state database or a file or folder the settings name.

    `digest archive --out .` once replaced the project folder, subscribers and state included."""
    resolved = target.resolve()
    for path, name in _kept_paths(settings):
        kept = path.resolve()
        if kept == resolved or resolved in kept.parents:
            where = "is" if kept == resolved else f"holds {kept}:"
            raise ConfigError(f"{what}: {target} {where} {name}; choose another folder")
    if not resolved.exists():
        return
    if not resolved.is_dir():
        raise ConfigError(f"{what}: {target} is a file, not a folder")
    if any(resolved.iterdir()) and not ours(resolved):
        raise ConfigError(
            f"{what}: {target} holds files digest did not write; it replaces only an empty "
            "folder or its own earlier output, so choose another folder or empty this one"
        )


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target` that replaces it whole when the block succeeds and is
    removed when it fails, so readers see the old folder or the new one, never half of either."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        for path in staging.rglob("*"):
            if path.is_file():
                _fsync(path)
        os.chmod(staging, 0o755)
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            aside.rmdir()
            target.rename(aside)
            staging.rename(target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_issue(
    settings: Settings,
    issue: Issue,
    files: Mapping[str, bytes],
    images: Mapping[str, Path],
) -> Path:
    """Write the issue folder atomically: a failure at any point leaves the previous folder
    (or none) and never half an issue."""
    target = issue_dir(settings, issue.date)
    check_replaceable(
        target, settings, ours=lambda folder: (folder / ISSUE_FILE).is_file(), what="issue folder"
    )
    with staged_folder(target) as staging:
        (staging / ISSUE_FILE).write_text(issue_to_json(issue) + "\n", encoding="utf-8")
        for name, content in files.items():
            (staging / name).write_bytes(content)
        if images:
            (staging / IMAGES_DIR).mkdir()
            for name, source in images.items():
                shutil.copyfile(source, staging / IMAGES_DIR / name)
    return target


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
