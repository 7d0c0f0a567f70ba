"""The editor's desk against a hostile network, with uvicorn on 127.0.0.1 and headless Chromium:
no framing by another site and no inline script, only http(s) story links, a password that is
not blank and slows guessing down, the names it may be reached by, and bodies capped with the
CSRF token checked before any of the body is read."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from digest.commands.serve import serve
from digest.config import Settings, load_settings
from digest.errors import ConfigError
from digest.pipeline import rerender
from digest.store import ISSUE_FILE, issue_dir
from digest.web.app import create_app
from digest.web.guard import MAX_BODY, PasswordMiddleware
from tests.support.browser import offline_page
from tests.support.http_server import LocalServer
from tests.test_web import TODAY, publish_fixture, running

if TYPE_CHECKING:
    from playwright.sync_api import Browser

DAY = TODAY.isoformat()


@contextmanager
def desk_at(settings: Settings) -> Iterator[tuple[str, str]]:
    """(base URL, CSRF token) of a desk serving `settings`."""
    app = create_app(settings, host="127.0.0.1", watch_files=False, spam=False)
    with running(app) as url:
        yield url, app.state.desk.csrf


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(issues_dir=tmp_path / "issues")
    publish_fixture(settings, TODAY, "Today")
    return settings


def _request(
    url: str, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> http.client.HTTPResponse:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path, body=body or None, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


# --- 6: framing and inline script ---


def test_every_response_forbids_framing_by_others_and_inline_script(settings: Settings) -> None:
    with desk_at(settings) as (url, _):
        answers = {
            "/": _request(url, "GET", "/"),
            "issue": _request(url, "GET", f"/issues/{DAY}/"),
            "email": _request(url, "GET", f"/issues/{DAY}/email.html"),
            "css": _request(url, "GET", "/static/desk.css"),
            "404": _request(url, "GET", "/issues/1999-01-01/"),
            "400": _request(url, "GET", "/", headers={"Host": "evil.example"}),
            "403": _request(url, "POST", f"/issues/{DAY}/edit"),
            "413": _request(
                url, "POST", f"/issues/{DAY}/edit", headers={"Content-Length": str(MAX_BODY + 1)}
            ),
        }
    assert {name: answer.status for name, answer in answers.items()} == {
        "/": 200,
        "issue": 200,
        "email": 200,
        "css": 200,
        "404": 404,
        "400": 400,
        "403": 403,
        "413": 413,
    }
    for name, answer in answers.items():
        policy = answer.getheader("Content-Security-Policy") or ""
        assert "frame-ancestors 'self'" in policy, name
        assert answer.getheader("X-Frame-Options") == "SAMEORIGIN", name
        scripts = next(
            part for part in policy.split(";") if "script-src" in part or "default-src" in part
        )
        assert "unsafe-inline" not in scripts, name
    assert "script-src 'self'" in (answers["issue"].getheader("Content-Security-Policy") or "")
    assert "default-src 'none'" in (answers["email"].getheader("Content-Security-Policy") or "")


def test_another_site_cannot_frame_the_desk(
    browser: Browser, settings: Settings, http_server: LocalServer
) -> None:
    with desk_at(settings) as (url, _):
        attacker = http_server.add(
            "/clickjack.html",
            f'<!doctype html><iframe id="victim" src="{url}/issues/{DAY}/"></iframe>'.encode(),
            "text/html",
        )
        with offline_page(browser, width=1000) as page:
            page.goto(attacker, wait_until="load")
            framed = [frame for frame in page.frames if frame is not page.main_frame]
            assert len(framed) == 1
            assert not framed[0].url.startswith(url), framed[0].url
            assert framed[0].locator("#edit-form").count() == 0


def test_the_desk_runs_its_own_script_but_no_inline_script(
    browser: Browser, settings: Settings
) -> None:
    with desk_at(settings) as (url, _), offline_page(browser, width=1000) as page:
        page.goto(f"{url}/issues/{DAY}/")
        page.wait_for_selector("body[data-live=on]")
        ran = page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.append(script);
                return window.injected === true;
            }"""
        )
        assert ran is False
        page.wait_for_selector("#findings[data-loaded=yes]")


# --- 10: only http(s) story links ---


def test_only_http_story_links_are_links(browser: Browser, settings: Settings) -> None:
    path = issue_dir(settings, TODAY) / ISSUE_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["more"][0]["url"] = "javascript:alert(document.domain)"
    data["more"][1]["url"] = "data:text/html,<script>alert(1)</script>"
    path.write_text(json.dumps(data), encoding="utf-8")
    rerender(settings, TODAY)
    with desk_at(settings) as (url, _), offline_page(browser, width=1000) as page:
        page.goto(f"{url}/issues/{DAY}/")
        links = page.locator("#edit-form a.source")
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        assert hrefs and all(href.startswith(("https://", "http://")) for href in hrefs)
        shown = page.locator("#edit-form span.source").all_inner_texts()
        assert shown == [
            "javascript:alert(document.domain)",
            "data:text/html,<script>alert(1)</script>",
        ]


# --- 12: the password and the names the desk answers to ---


def test_a_blank_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SERVE_PASSWORD", "   ")
    with pytest.raises(ConfigError, match=r"^DIGEST_SERVE_PASSWORD: only blank spaces") as caught:
        serve(host="0.0.0.0", port=8025)
    assert "'   '" not in str(caught.value)


def _basic(password: str | None) -> dict[str, str]:
    if password is None:
        return {}
    return {"Authorization": "Basic " + b64encode(f"editor:{password}".encode()).decode()}


def test_repeated_wrong_passwords_lock_the_address_out_for_a_while(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues", serve_password=SecretStr("s3cret-desk"))
    with desk_at(settings) as (url, _):
        assert _request(url, "GET", "/", headers=_basic(None)).status == 401
        for _ in range(PasswordMiddleware.FREE_FAILURES):
            assert _request(url, "GET", "/", headers=_basic("guess")).status == 401
        locked = _request(url, "GET", "/", headers=_basic("s3cret-desk"))
        assert locked.status == 429
        wait = int(locked.getheader("Retry-After") or "0")
        assert 1 <= wait <= PasswordMiddleware.FIRST_LOCK
        time.sleep(wait + 0.2)
        assert _request(url, "GET", "/", headers=_basic("s3cret-desk")).status == 200
        assert _request(url, "GET", "/", headers=_basic("guess")).status == 401


def test_allowed_hosts_add_names_and_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SERVE_ALLOWED_HOSTS", "desk.example.org, 192.0.2.10")
    settings = load_settings(issues_dir=tmp_path / "issues")
    with desk_at(settings) as (url, _):
        port = url.rsplit(":", 1)[1]
        statuses = {
            name: _request(url, "GET", "/", headers={"Host": f"{name}:{port}"}).status
            for name in ("desk.example.org", "192.0.2.10", "127.0.0.1", "evil.example")
        }
    assert statuses == {
        "desk.example.org": 200,
        "192.0.2.10": 200,
        "127.0.0.1": 200,
        "evil.example": 400,
    }


# --- 14: the edit form's size, the body cap, the token first ---


def test_the_story_count_of_the_edit_form_is_bounded_by_the_issue(
    browser: Browser, settings: Settings
) -> None:
    before = (issue_dir(settings, TODAY) / ISSUE_FILE).read_bytes()
    with desk_at(settings) as (url, token), offline_page(browser, width=1000) as page:
        page.goto(f"{url}/issues/{DAY}/")
        version = page.locator("input[name=version]").get_attribute("value") or ""
        response = page.request.post(
            f"{url}/issues/{DAY}/edit?csrf={token}",
            form={"version": version, "count": str(10**9), "subject": "Huge", "lead": "0"},
        )
        assert response.ok
        assert "the form lists 1000000000 stories and the issue has 5" in response.text()
    assert (issue_dir(settings, TODAY) / ISSUE_FILE).read_bytes() == before


def test_a_wrong_token_is_refused_before_the_body_is_read(settings: Settings) -> None:
    """The body is announced but never sent: reading it first would wait for the timeout."""
    with desk_at(settings) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.putrequest("POST", f"/issues/{DAY}/send-test?csrf=guess")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(MAX_BODY - 1))
        connection.endheaders(b"address=")
        response = connection.getresponse()
        assert response.status == 403
        assert b"CSRF" in response.read()
        connection.close()


def test_a_body_over_the_cap_is_refused_however_it_is_sent(settings: Settings) -> None:
    with desk_at(settings) as (url, token):
        declared = _request(
            url,
            "POST",
            f"/issues/{DAY}/edit?csrf={token}",
            headers={"Content-Length": str(10**9)},
        )
        assert declared.status == 413
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        chunks = (b"subject=" + b"x" * 65536 for _ in range(MAX_BODY // 65536 + 2))
        # The server may answer and close while the rest is still being sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                "POST",
                f"/issues/{DAY}/edit?csrf={token}",
                body=chunks,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                encode_chunked=True,
            )
        response = connection.getresponse()
        assert response.status == 413
        connection.close()
