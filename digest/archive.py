"""`digest archive`: the issues as a static public web archive, the pages DIGEST_VIEW_ONLINE_URL
points at: `index.html` listing every issue, and `YYYY-MM-DD/index.html` holding the email's HTML
with its images beside it, so the relative image paths of the preview resolve.

Nothing personal goes public: unsubscribe tokens and reader names are taken out of every page,
and a page that still holds one is refused rather than written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from starlette.templating import Jinja2Templates

from digest.config import Settings
from digest.errors import BuildError
from digest.models import NAME_PLACEHOLDER, PREVIEW_RECIPIENT, TOKEN_PLACEHOLDER
from digest.store import IMAGES_DIR, check_replaceable, issue_dir, issue_images, staged_folder
from digest.web.desk import list_issues, personalised_preview

WEB = Path(__file__).parent / "web"
STYLESHEET = "desk.css"
MARK = ".digest-archive"
"""Written into every archive: the next `digest archive` replaces only a folder holding it (or an
empty or missing one)."""


class ArchiveResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: Path
    pages: int
    skipped: list[str]

    @property
    def summary(self) -> str:
        skipped = f"; skipped {', '.join(self.skipped)}" if self.skipped else ""
        return f"Wrote {self.pages} issue page(s) and an index to {self.folder}{skipped}"


def public_html(path: Path) -> str:
    """The email's HTML as a public page: no token, no name (also served by `digest site`)."""
    html = personalised_preview(path.read_text(encoding="utf-8"), public=True)
    for secret in (TOKEN_PLACEHOLDER, NAME_PLACEHOLDER, PREVIEW_RECIPIENT.token):
        if secret in html:
            raise BuildError(f"{path}: still holds {secret!r} after cleaning; not published")
    return html


def write_archive(settings: Settings, out: Path) -> ArchiveResult:
    """Write the archive into `out`, replacing it whole (built aside, then renamed into place),
    when `out` is missing, empty or an earlier archive; otherwise raise ConfigError."""
    check_replaceable(out, settings, ours=lambda folder: (folder / MARK).is_file(), what="--out")
    environment = Jinja2Templates(directory=WEB / "templates").env
    issues = [
        item for item in list_issues(settings, with_status=False) if item.status != "unreadable"
    ]
    out = out.resolve()
    skipped: list[str] = []
    published = []
    with staged_folder(out) as staging:
        (staging / MARK).write_text(
            "Written by `digest archive`, which replaces this whole folder when it runs again.\n",
            encoding="utf-8",
        )
        shutil.copyfile(WEB / "static" / STYLESHEET, staging / STYLESHEET)
        for item in issues:
            folder = issue_dir(settings, item.date)
            if not (folder / "email.html").is_file():
                skipped.append(f"{item.date.isoformat()} (not rendered)")
                continue
            page = staging / item.date.isoformat()
            page.mkdir()
            (page / "index.html").write_text(public_html(folder / "email.html"), encoding="utf-8")
            images = issue_images(folder)
            if images:
                (page / IMAGES_DIR).mkdir()
            for path in images:
                shutil.copyfile(path, page / IMAGES_DIR / path.name)
            published.append(item)
        index = environment.get_template("index.html").render(
            issues=published,
            public=True,
            static=".",
            prefix="",
            title=settings.newsletter_name,
            heading=f"{settings.newsletter_name}: the archive",
            date=None,
        )
        (staging / "index.html").write_text(index, encoding="utf-8")
    return ArchiveResult(folder=out, pages=len(published), skipped=skipped)
