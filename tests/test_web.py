"""The editor's desk in a real browser: headless Chromium against `digest serve`'s app on 127.0.0.1,
with a real SMTP server for test sends and real files changed on disk for live reload."""

from __future__ import annotations

import datetime as dt
import http.client
import shutil
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from pydantic import SecretStr
from starlette.types import ASGIApp

from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import Issue, Story
from digest.pipeline import rerender
from digest.render import default_templates_dir
from digest.store import ISSUE_FILE, issue_dir, load_issue, write_issue
from digest.web.app import create_app
from digest.web.desk import IssueEdit, StoryEdit, apply_edit, force_dark, swap_story
from digest.web.guard import allowed_hosts
from tests.conftest import FIXTURES
from tests.support.browser import offline_page
from tests.support.smtp_server import SmtpServer, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TODAY = dt.date(2026, 11, 26)
EARLIER = dt.date(2026, 11, 19)
RENDER_FIXTURE = FIXTURES / "render"


def publish_fixture(settings: Settings, date: dt.date, subject: str) -> None:
    """The render fixture as a built issue of `date`, through the real pipeline's re-render."""
    issue = Issue.model_validate_json((RENDER_FIXTURE / "issue.json").read_text(encoding="utf-8"))
    issue = issue.model_copy(update={"date": date, "subject": subject})
    images = {path.name: path for path in (RENDER_FIXTURE / "images").iterdir()}
    write_issue(settings, issue, {}, images)
    rerender(settings, date)


@contextmanager
def running(app: ASGIApp, port: int | None = None, **options: Any) -> Iterator[str]:
    """uvicorn serving `app` on a loopback port (a free one unless given) in a thread; `options`
    go to uvicorn.Config."""
    port = port or free_port()
    settings: dict[str, Any] = {"log_level": "warning", "timeout_graceful_shutdown": 1} | options
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **settings)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Desk:
    url: str
    settings: Settings
    smtp: SmtpServer


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One app and one SMTP server for the module: the issues folder, a user templates folder
    (so a test can break a template) and SMTP on loopback."""
    root = tmp_path_factory.mktemp("desk")
    templates = root / "templates"
    shutil.copytree(default_templates_dir(), templates)
    with SmtpServer() as smtp:
        settings = Settings(
            issues_dir=root / "issues",
            templates_dir=templates,
            secret_key=SecretStr("test-secret-key-for-tokens-0123456789"),
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_security="none",
            smtp_allow_insecure=True,
            smtp_max_attempts=1,
        )
        publish_fixture(settings, EARLIER, "Last week's harbour news")
        publish_fixture(settings, TODAY, "Sea walls, ferries & grain")
        # SpamAssassin's score is tested in test_check; here it would cost seconds per edit.
        with running(create_app(settings, host="127.0.0.1", spam=False)) as url:
            yield Desk(url=url, settings=settings, smtp=smtp)


@contextmanager
def issue_page(browser: Browser, desk: Desk, date: dt.date = TODAY) -> Iterator[Page]:
    with offline_page(browser, width=1600, height=1000) as page:
        page.set_default_timeout(10_000)
        page.goto(f"{desk.url}/issues/{date.isoformat()}/")
        page.wait_for_selector("body[data-live=on]")
        yield page


def test_index_lists_issues_newest_first(browser: Browser, desk: Desk) -> None:
    with offline_page(browser, width=1000) as page:
        page.goto(desk.url + "/")
        rows = page.locator("tr.issue-row")
        assert rows.count() == 2
        assert rows.nth(0).locator("td").nth(0).inner_text() == TODAY.isoformat()
        assert rows.nth(0).locator("td").nth(1).inner_text() == "Sea walls, ferries & grain"
        assert rows.nth(0).locator("td").nth(2).inner_text() == "5"
        assert rows.nth(1).locator("td").nth(0).inner_text() == EARLIER.isoformat()
        assert rows.nth(0).locator(".status").inner_text() == "not sent"
        page.click(f"text={TODAY.isoformat()}")
        page.wait_for_url(f"**/issues/{TODAY.isoformat()}/")


def test_issue_page_shows_both_widths_dark_mode_text_headers_and_findings(
    browser: Browser, desk: Desk
) -> None:
    with issue_page(browser, desk) as page:
        widths = {}
        for name in ("phone", "desktop", "dark"):
            frame = page.frame_locator(f"iframe.{name}")
            frame.locator("h1").wait_for()
            widths[name] = page.locator(f"iframe.{name}").bounding_box()["width"]  # type: ignore[index]
        assert widths["phone"] == pytest.approx(375, abs=2)
        assert widths["desktop"] >= 600
        light = page.frame_locator("iframe.desktop").locator("body")
        dark = page.frame_locator("iframe.dark").locator("body")
        assert light.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(243, 241, 236)"
        assert dark.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 15, 15)"
        image = page.frame_locator("iframe.desktop").locator("img").first
        image.wait_for()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert "Read the full story:" in page.locator("pre.text-part").text_content()  # type: ignore[operator]
        headers = page.locator("pre.headers").text_content() or ""
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in headers
        page.wait_for_selector("#findings[data-loaded=yes]")
        assert "size" in page.locator("#findings").inner_text()


def test_editing_a_teaser_rerenders_and_persists(browser: Browser, desk: Desk) -> None:
    new_teaser = "An edited teaser, written by the editor at the desk."
    with issue_page(browser, desk) as page:
        page.fill("textarea[name=teaser-1]", new_teaser)
        page.fill("input[name=subject]", "Edited subject")
        page.click("button:has-text('Save and re-render')")
        page.wait_for_selector(".notice:has-text('Saved and re-rendered')")
        assert page.locator("h1").first.inner_text() == "Edited subject"
        frame = page.frame_locator("iframe.desktop")
        frame.locator(f"text={new_teaser}").wait_for()
    saved = load_issue(desk.settings, TODAY)
    assert saved.more[0].teaser == new_teaser and saved.subject == "Edited subject"
    folder = issue_dir(desk.settings, TODAY)
    assert new_teaser in (folder / "email.txt").read_text(encoding="utf-8")
    assert "Edited subject" in (folder / "email.eml").read_text(encoding="utf-8")


def test_a_test_send_reaches_the_smtp_server(browser: Browser, desk: Desk) -> None:
    with issue_page(browser, desk) as page:
        page.click("summary:has-text('Send test')")
        page.fill("input[name=address]", "editor@example.com")
        page.click("button:has-text('Send test')")
        page.wait_for_selector(".notice:has-text('Test sent to editor@example.com.')")
    received = [m for m in desk.smtp.received if "editor@example.com" in m.rcpt_tos]
    assert len(received) == 1
    assert str(received[0].message["Subject"]).startswith("[TEST] ")


def test_a_test_send_that_fails_says_so(browser: Browser, desk: Desk) -> None:
    desk.smtp.faults.reject.add("bounce@example.com")
    with issue_page(browser, desk) as page:
        page.click("summary:has-text('Send test')")
        page.fill("input[name=address]", "bounce@example.com")
        page.click("button:has-text('Send test')")
        notice = page.locator(".notice.bad")
        notice.wait_for()
        assert "was not accepted" in notice.inner_text()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("\u00fc@example.com", "Internationalized characters before the @-sign"),
        ("ada\x00@example.com", "invalid characters before the @-sign: U+0000"),
    ],
)
def test_a_test_send_checks_the_address_as_digest_send_to_does(
    browser: Browser, desk: Desk, address: str, reason: str
) -> None:
    """The form's own check (type=email) is the browser's; a POST goes through the server's."""
    received = len(desk.smtp.received)
    with issue_page(browser, desk) as page:
        action = page.locator("form.send-test").get_attribute("action") or ""
        assert "?csrf=" in action
        response = page.request.post(desk.url + action, form={"address": address})
        assert response.status == 200
        page.set_content(response.text())
        notice = page.locator(".notice.bad").inner_text()
    assert notice.startswith(f"error: {address!r}: ") and reason in notice
    assert len(desk.smtp.received) == received


def test_live_reload_after_issue_json_changes_on_disk(browser: Browser, desk: Desk) -> None:
    path = issue_dir(desk.settings, EARLIER) / ISSUE_FILE
    with issue_page(browser, desk, EARLIER) as page:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Last week's harbour news", "Changed on disk"), "utf-8")
        page.wait_for_selector("h1:has-text('Changed on disk')")
        page.frame_locator("iframe.desktop").locator("title").wait_for(state="attached")
    eml = (issue_dir(desk.settings, EARLIER) / "email.eml").read_text(encoding="utf-8")
    assert "Subject: Changed on disk" in eml


def test_a_template_error_shows_on_the_page(browser: Browser, desk: Desk) -> None:
    template = Path(str(desk.settings.templates_dir)) / "newsletter.mjml.j2"
    original = template.read_text(encoding="utf-8")
    with issue_page(browser, desk, EARLIER) as page:
        try:
            template.write_text(
                original.replace("{{ newsletter }}", "{{ newsletter | nosuchfilter }}")
            )
            error = page.locator(".render-error")
            error.wait_for()
            assert "newsletter.mjml.j2" in error.inner_text()
            assert "nosuchfilter" in error.inner_text()
        finally:
            template.write_text(original, encoding="utf-8")
        page.wait_for_selector("body[data-live=on]")
        page.wait_for_selector(".render-error", state="detached")


def test_a_post_without_the_csrf_token_is_refused(browser: Browser, desk: Desk) -> None:
    before = (issue_dir(desk.settings, TODAY) / ISSUE_FILE).read_text(encoding="utf-8")
    with issue_page(browser, desk) as page:
        page.evaluate("(f => { f.action = f.action.split('?')[0]; })(document.forms['edit-form'])")
        page.fill("input[name=subject]", "Forged")
        page.click("button:has-text('Save and re-render')")
        page.wait_for_selector("text=missing or wrong CSRF token")
        response = page.request.post(
            f"{desk.url}/issues/{TODAY.isoformat()}/send-test",
            form={"address": "x@example.com", "csrf": "guess"},
        )
        assert response.status == 403
    assert (issue_dir(desk.settings, TODAY) / ISSUE_FILE).read_text(encoding="utf-8") == before


def test_a_foreign_host_header_is_refused(desk: Desk) -> None:
    host, port = desk.url.removeprefix("http://").split(":")
    for name, expected in (("evil.example", 400), (f"localhost:{port}", 200)):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/", headers={"Host": name})
        assert connection.getresponse().status == expected
        connection.close()


def test_a_password_guards_every_page(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues", serve_password=SecretStr("s3cret"))
    app = create_app(settings, host="127.0.0.1", watch_files=False)
    with running(app) as url:
        host, port = url.removeprefix("http://").split(":")
        for auth, expected in ((None, 401), ("editor:wrong", 401), ("editor:s3cret", 200)):
            headers = (
                {"Authorization": "Basic " + b64encode(auth.encode()).decode()} if auth else {}
            )
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/", headers=headers)
            assert connection.getresponse().status == expected
            connection.close()


def test_serving_off_loopback_needs_a_password() -> None:
    from digest.commands.serve import serve

    with pytest.raises(
        ConfigError, match=r"DIGEST_SERVE_PASSWORD: required to listen on 0\.0\.0\.0"
    ):
        serve(host="0.0.0.0", port=8025)
    assert "127.0.0.1" in allowed_hosts("127.0.0.1") and "localhost" in allowed_hosts("::1")
    assert allowed_hosts("news.example.org") == ["news.example.org"]


def _issue() -> Issue:
    return Issue.model_validate_json((RENDER_FIXTURE / "issue.json").read_text(encoding="utf-8"))


def _edit(issue: Issue, **changes: object) -> IssueEdit:
    stories = [
        StoryEdit(title=s.title, teaser=s.teaser, position=i) for i, s in enumerate(issue.stories)
    ]
    fields: dict[str, object] = {
        "version": "v",
        "subject": issue.subject,
        "preheader": issue.preheader,
        "lead": 0,
        "stories": stories,
    }
    return IssueEdit.model_validate(fields | changes)


def test_edits_reorder_drop_and_choose_the_lead() -> None:
    issue = _issue()
    titles = [s.title for s in issue.stories]
    edit = _edit(issue, lead=2)
    edit.stories[1].drop = True
    edit.stories[0].position = 5
    changed = apply_edit(issue, edit)
    assert changed.lead.title == titles[2] and changed.lead.lead
    assert [s.title for s in changed.more] == [titles[3], titles[4], titles[0]]
    assert not any(s.lead for s in changed.more)
    dropped_lead = _edit(issue)
    dropped_lead.stories[0].drop = True
    with pytest.raises(BuildError, match="lead story cannot be dropped"):
        apply_edit(issue, dropped_lead)
    untitled = _edit(issue)
    untitled.stories[3].title = "  "
    with pytest.raises(BuildError, match="story 4: the title cannot be empty"):
        apply_edit(issue, untitled)


def test_a_story_can_be_swapped_for_a_candidate() -> None:
    issue = _issue()
    candidate = Story(
        title="A candidate from the feed",
        url="https://news.example.org/candidate",
        text="First sentence of the candidate. " * 40,
    )
    swapped = swap_story(issue, 2, candidate, Settings(item_teaser_words=12))
    assert swapped.more[1].title == "A candidate from the feed"
    assert 0 < len(swapped.more[1].teaser.split()) <= 12
    assert len(swapped.stories) == len(issue.stories)
    with pytest.raises(BuildError, match="no story 9"):
        swap_story(issue, 8, candidate, Settings())


def test_dark_view_turns_the_dark_media_query_on() -> None:
    html = "@media (prefers-color-scheme: dark) {a} @media (prefers-color-scheme:light) {b}"
    assert force_dark(html) == "@media (min-width: 0px) {a} @media (max-width: 0px) {b}"
