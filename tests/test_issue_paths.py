"""Paths taken from `issue.json` stay inside the issue folder: the language never names a file
elsewhere, a local image never comes from outside `images/`, and no symlink leads out of it, for
a re-render, the archive and the editor's desk alike."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest

from digest.archive import write_archive
from digest.config import Settings
from digest.errors import BuildError
from digest.pipeline import rerender
from digest.store import ISSUE_FILE, issue_dir, load_issue
from digest.web.app import create_app
from tests.test_web import RENDER_FIXTURE, TODAY, publish_fixture, running

PICTURE = RENDER_FIXTURE / "images" / "lead.png"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(issues_dir=tmp_path / "issues")
    publish_fixture(settings, TODAY, "Today")
    return settings


def _edit_issue_json(settings: Settings, change: dict[str, object]) -> None:
    path = issue_dir(settings, TODAY) / ISSUE_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(change)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_language_that_could_name_a_path_is_refused(settings: Settings, tmp_path: Path) -> None:
    evil = tmp_path / "srv" / "evil"
    evil.parent.mkdir()
    (evil.parent / "evil.po").write_text('msgid "Read more"\nmsgstr "PWNED"\n', encoding="utf-8")
    _edit_issue_json(settings, {"language": "../../../../../../../../" + str(evil)})
    with pytest.raises(BuildError, match=r"issue\.json: language: String should match") as caught:
        rerender(settings, TODAY)
    assert "\n" not in str(caught.value)
    assert "PWNED" not in (issue_dir(settings, TODAY) / "email.html").read_text(encoding="utf-8")


def test_a_local_image_outside_the_issue_folder_is_dropped(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "private" / "passport.png"
    secret.parent.mkdir()
    shutil.copyfile(PICTURE, secret)
    path = issue_dir(settings, TODAY) / ISSUE_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["lead"]["image"]["url"] = "images/../../../private/passport.png"
    path.write_text(json.dumps(data), encoding="utf-8")
    rerender(settings, TODAY)
    assert load_issue(settings, TODAY).lead.image is None
    assert "outside the issue folder" in caplog.text
    copied = sorted(p.name for p in (issue_dir(settings, TODAY) / "images").iterdir())
    assert copied == ["fields.png", "harbour.png"]
    write_archive(settings, tmp_path / "site")
    assert not list((tmp_path / "site").rglob("passport*"))


def test_no_symlink_leads_out_of_the_issue_folder(settings: Settings, tmp_path: Path) -> None:
    folder = issue_dir(settings, TODAY)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    shutil.copyfile(PICTURE, outside / "private.png")
    (folder / "images" / "linked.png").symlink_to(outside / "private.png")
    app = create_app(settings, host="127.0.0.1", watch_files=False, spam=False)
    with running(app) as url:
        host, port = url.removeprefix("http://").split(":")

        def status(name: str) -> int:
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", f"/issues/{TODAY.isoformat()}/images/{name}")
            code = connection.getresponse().status
            connection.close()
            return code

        assert status("lead.png") == 200
        assert status("linked.png") == 404
        shutil.move(folder / "images", tmp_path / "real-images")
        (folder / "images").symlink_to(outside)
        assert status("passwd") == 404
        assert status("private.png") == 404
    site = tmp_path / "site"
    write_archive(settings, site)
    assert not (site / TODAY.isoformat() / "images").exists()
    assert "root:x" not in "".join(p.read_text("utf-8", "replace") for p in site.rglob("*.*"))
