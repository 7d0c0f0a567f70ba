"""`digest site` through real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL: sign-up with
double opt-in, the RFC 8058 one-click POST, pages a GET never changes anything through, the
archive, and the bad inputs of issue 12."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import feedparser
import h11
import httpx
import pytest

from digest.audience.store import ACTIVE, PENDING, UNSUBSCRIBED, SubscriberStore
from digest.deliver import send_issue
from digest.prepare import prepare_message
from digest.state.engine import open_engine
from digest.state.ledger import Ledger
from digest.store import load_issue
from digest.tokens import Purpose, TokenSigner
from tests.support.site import SECRET, Site, form_token, link, running_site
from tests.test_web import publish_fixture

DAY = dt.date(2026, 11, 26)


@pytest.fixture
def site(database_url: str, isolated_environment: Path) -> Iterator[Site]:
    with running_site(isolated_environment, database_url) as running:
        yield running


def status_of(site: Site, email: str) -> str | None:
    engine = open_engine(site.settings.state_url)
    try:
        record = SubscriberStore(engine).get(email)
    finally:
        engine.dispose()
    return record.status.value if record else None


def sign_up(client: httpx.Client, email: str, **fields: str) -> httpx.Response:
    page = client.get("/subscribe")
    assert page.status_code == 200
    return client.post("/subscribe", data={"csrf": form_token(page), "email": email} | fields)


def confirm(site: Site, client: httpx.Client, email: str) -> httpx.Response:
    url = link(site.mail_to(email)[0], r"http://127\.0\.0\.1:\d+/confirm/\S+")
    page = client.get(url)
    assert page.status_code == 200 and "Yes, subscribe me" in page.text
    return client.post(url, data={"csrf": form_token(page)})


def send_issue_now(site: Site) -> None:
    """`digest send` of the fixture issue to the active subscribers."""
    publish_fixture(site.settings, DAY, "The Harbour Post: talks resume")
    issue = load_issue(site.settings, DAY)
    engine = open_engine(site.settings.state_url)
    try:
        summary = send_issue(
            site.settings, issue, prepare_message(issue, site.settings), Ledger(engine)
        )
    finally:
        engine.dispose()
    assert summary.ok, summary.line


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.found.append(value)


# --- joining ---


def test_sign_up_confirm_and_welcome(site: Site) -> None:
    with site.client() as client:
        answer = sign_up(client, "Ada@Example.com", name="Ada")
        assert answer.status_code == 200 and "Check your mailbox" in answer.text
        assert status_of(site, "ada@example.com") == PENDING
        [mail] = site.mail_to("Ada@Example.com")
        assert mail["Subject"] == "Confirm your subscription to The Harbour Post"
        assert mail["From"] == "The Harbour Post <news@harbour.example>"
        html = mail.get_body(("html",)).get_content()
        assert "Yes, subscribe me" in html and 'lang="en"' in html
        assert status_of(site, "ada@example.com") == PENDING
        done = confirm(site, client, "Ada@Example.com")
        assert done.status_code == 200 and "You are subscribed" in done.text
    assert status_of(site, "ada@example.com") == ACTIVE
    welcome = site.mail_to("Ada@Example.com", 2)[1]
    assert welcome["Subject"] == "Welcome to The Harbour Post"
    assert f"{site.url}/unsubscribe/" in welcome.get_body(("plain",)).get_content()
    engine = open_engine(site.settings.state_url)
    record = SubscriberStore(engine).get("ada@example.com")
    engine.dispose()
    assert record is not None and record.consent is not None and record.name == "Ada"
    assert record.consent.ip == "127.0.0.1" and record.consent.url == f"{site.url}/subscribe"
    assert "python-httpx" in record.consent.user_agent and record.consent.text.startswith("I would")


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(site: Site) -> None:
    with site.client() as client:
        first = sign_up(client, "new@example.com")
        engine = open_engine(site.settings.state_url)
        SubscriberStore(engine).add("old@example.com")
        engine.dispose()
        known = sign_up(client, "old@example.com")
        again = sign_up(client, "new@example.com")
    assert first.status_code == known.status_code == again.status_code == 200
    assert first.text == known.text == again.text
    assert len(site.mail_to("new@example.com")) == 1
    assert site.mail_to("old@example.com", timeout=1) == []


def test_a_too_quick_form_is_shown_again(database_url: str, isolated_environment: Path) -> None:
    with running_site(isolated_environment, database_url, signup_min_seconds=30) as site:
        with site.client() as client:
            answer = sign_up(client, "quick@example.com")
        assert answer.status_code == 200 and "That was quick" in answer.text
        assert 'value="quick@example.com"' in answer.text
        assert status_of(site, "quick@example.com") is None


def test_the_honeypot_gets_the_same_answer_and_nothing_else(site: Site) -> None:
    with site.client() as client:
        answer = sign_up(client, "bot@example.com", website="http://spam.example")
    assert answer.status_code == 200 and "Check your mailbox" in answer.text
    assert status_of(site, "bot@example.com") is None
    assert site.mail_to("bot@example.com", timeout=1) == []


# --- leaving ---


def test_rfc_8058_one_click_post_unsubscribes_with_a_plain_200(site: Site) -> None:
    engine = open_engine(site.settings.state_url)
    SubscriberStore(engine).add("ada@example.com")
    engine.dispose()
    token = TokenSigner(SECRET).sign("ada@example.com")
    with site.client() as client:
        answer = client.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in answer.headers and "location" not in answer.headers
    assert status_of(site, "ada@example.com") == UNSUBSCRIBED


def test_one_click_also_works_on_the_query_string_form_and_for_unknown_addresses(
    site: Site,
) -> None:
    token = TokenSigner(SECRET).sign("legacy@example.com")
    with site.client() as client:
        answer = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert status_of(site, "legacy@example.com") == UNSUBSCRIBED


def test_the_unsubscribe_page_asks_then_its_button_leaves_and_offers_to_come_back(
    site: Site,
) -> None:
    engine = open_engine(site.settings.state_url)
    SubscriberStore(engine).add("ada@example.com")
    engine.dispose()
    token = TokenSigner(SECRET).sign("ada@example.com")
    with site.client() as client:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and "a•••@example.com" in page.text
        assert "ada@example.com" not in page.text
        assert status_of(site, "ada@example.com") == ACTIVE
        left = client.post(f"/unsubscribe/{token}", data={"csrf": form_token(page)})
        assert left.status_code == 200 and "You have unsubscribed" in left.text
        assert status_of(site, "ada@example.com") == UNSUBSCRIBED
        back = client.post(f"/resubscribe/{token}", data={"csrf": form_token(left)})
        assert back.status_code == 200 and "Check your mailbox" in back.text
        assert status_of(site, "ada@example.com") == UNSUBSCRIBED
        assert confirm(site, client, "ada@example.com").status_code == 200
    assert status_of(site, "ada@example.com") == ACTIVE


def test_a_confirm_link_from_before_leaving_never_brings_anyone_back(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.com")
        url = link(site.mail_to("ada@example.com")[0], r"http://127\.0\.0\.1:\d+/confirm/\S+")
        page = client.get(url)
        client.post(url, data={"csrf": form_token(page)})
        token = TokenSigner(SECRET).sign("ada@example.com")
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        again = client.get(url)
        assert again.status_code == 410
        replay = client.post(url, data={"csrf": form_token(page)})
        assert replay.status_code == 410
    assert status_of(site, "ada@example.com") == UNSUBSCRIBED


# --- a GET never changes anything ---


def test_a_scanner_opening_every_link_of_a_sent_issue_changes_nothing(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "ada@example.com")
        confirm(site, client, "ada@example.com")
    send_issue_now(site)
    issue = site.mail_to("ada@example.com", 3)[2]
    assert issue["Subject"] == "The Harbour Post: talks resume"
    parser = Links()
    parser.feed(issue.get_body(("html",)).get_content())
    text = issue.get_body(("plain",)).get_content()
    header = re.findall(r"<(https?://[^>]+)>", issue["List-Unsubscribe"])
    ours = {
        url
        for url in [*parser.found, *re.findall(r"https?://\S+", text), *header]
        if url.startswith(site.url)
    }
    assert any("/unsubscribe/" in url for url in ours)
    assert any("/issues/2026-11-26/" in url for url in ours)
    with httpx.Client(follow_redirects=True, timeout=30) as scanner:
        for url in sorted(ours):
            assert scanner.get(url).status_code == 200, url
            assert scanner.head(url).status_code in (200, 405), url
    assert status_of(site, "ada@example.com") == ACTIVE


# --- the archive ---


def test_the_archive_shows_sent_issues_without_tokens_and_a_feed(site: Site) -> None:
    publish_fixture(site.settings, dt.date(2026, 11, 27), "Not sent yet")
    engine = open_engine(site.settings.state_url)
    SubscriberStore(engine).add("ada@example.com")
    engine.dispose()
    send_issue_now(site)
    with site.client() as client:
        index = client.get("/")
        page = client.get("/issues/2026-11-26/")
        draft = client.get("/issues/2026-11-27/")
        feed = client.get("/feed.xml")
        missing = client.get("/issues/not-a-date/")
    assert index.status_code == 200 and "talks resume" in index.text
    assert "Not sent yet" not in index.text
    assert page.status_code == 200 and "DIGESTUNSUBSCRIBETOKEN" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert draft.status_code == 404 and missing.status_code == 404
    parsed = feedparser.parse(feed.content)
    assert feed.headers["content-type"] == "application/atom+xml"
    assert [entry.link for entry in parsed.entries] == [f"{site.url}/issues/2026-11-26/"]
    assert parsed.entries[0].title == "The Harbour Post: talks resume"


# --- bad input ---


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "YWRhQGV4YW1wbGUuY29t.AAAAAAAAAAAAAAAAAAAAAA",
        "%00%0d%0a",
        "x" * 5000,
    ],
)
def test_malformed_and_forged_tokens_change_nothing(site: Site, token: str) -> None:
    engine = open_engine(site.settings.state_url)
    SubscriberStore(engine).add("ada@example.com")
    engine.dispose()
    with site.client() as client:
        for path in (f"/unsubscribe/{token}", f"/confirm/{token}"):
            assert client.get(path).status_code in (404, 414, 400)
            assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code in (
                403,
                404,
                414,
                400,
            )
    assert status_of(site, "ada@example.com") == ACTIVE


def test_a_token_for_one_address_never_acts_on_another(site: Site) -> None:
    engine = open_engine(site.settings.state_url)
    store = SubscriberStore(engine)
    store.add("ada@example.com")
    store.add("bob@example.com")
    engine.dispose()
    signer = TokenSigner(SECRET)
    ada = signer.sign("ada@example.com")
    bob_payload = signer.sign("bob@example.com").split(".")[0]
    confirm_token = signer.stamp(Purpose.CONFIRM, "ada@example.com", dt.datetime.now(dt.UTC))
    with site.client() as client:
        spliced = f"{bob_payload}.{ada.split('.')[1]}"
        assert (
            client.post(
                f"/unsubscribe/{spliced}", data={"List-Unsubscribe": "One-Click"}
            ).status_code
            == 404
        )
        # A confirm token is not an unsubscribe token, and the reverse.
        assert (
            client.post(
                f"/unsubscribe/{confirm_token}", data={"List-Unsubscribe": "One-Click"}
            ).status_code
            == 404
        )
        assert client.get(f"/confirm/{ada}").status_code == 404
        # The form of one link's page does not work on another's.
        page = client.get(f"/unsubscribe/{ada}")
        bob = signer.sign("bob@example.com")
        assert (
            client.post(f"/unsubscribe/{bob}", data={"csrf": form_token(page)}).status_code == 403
        )
    assert status_of(site, "ada@example.com") == status_of(site, "bob@example.com") == ACTIVE


def test_an_expired_confirm_link_says_so(site: Site) -> None:
    with site.client() as client:
        sign_up(client, "late@example.com")
        issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
        token = TokenSigner(SECRET).stamp(Purpose.CONFIRM, "late@example.com", issued)
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 410 and "expired" in page.text
        fresh = client.get(link(site.mail_to("late@example.com")[0], r"http://\S+/confirm/\S+"))
        posted = client.post(f"/confirm/{token}", data={"csrf": form_token(fresh)})
        assert posted.status_code in (403, 410)
    assert status_of(site, "late@example.com") == PENDING


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com\r\nBcc: victim@example.com",
        "ada@example.com\nX-Injected: 1",
        "a" * 990 + "@example.com",
        "not an address",
        "",
    ],
)
def test_bad_addresses_are_refused_with_the_form_again(site: Site, address: str) -> None:
    with site.client() as client:
        answer = sign_up(client, address)
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
    engine = open_engine(site.settings.state_url)
    counts = SubscriberStore(engine).counts()
    engine.dispose()
    assert sum(counts.values()) == 0
    assert not site.smtp.received


def test_forms_without_their_token_or_from_another_site_are_refused(site: Site) -> None:
    with site.client() as client:
        page = client.get("/subscribe")
        token = form_token(page)
        no_token = client.post("/subscribe", data={"email": "a@example.com"})
        foreign = client.post(
            "/subscribe",
            data={"csrf": token, "email": "a@example.com"},
            headers={"Origin": "https://evil.example"},
        )
        cross = client.post(
            "/subscribe",
            data={"csrf": token, "email": "a@example.com"},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        client.cookies.clear()
        no_cookie = client.post("/subscribe", data={"csrf": token, "email": "a@example.com"})
    assert no_token.status_code == foreign.status_code == cross.status_code == 403
    assert no_cookie.status_code == 403
    assert status_of(site, "a@example.com") is None


def test_request_bodies_are_capped(site: Site) -> None:
    with site.client() as client:
        page = client.get("/subscribe")
        big = client.post(
            "/subscribe",
            data={"csrf": form_token(page), "email": "a@example.com", "pad": "x" * 40_000},
        )

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b"x" * 1024

        streamed = client.post(
            "/subscribe",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert big.status_code == streamed.status_code == 413


def test_every_page_carries_the_security_headers(site: Site) -> None:
    with site.client() as client:
        for path in ("/", "/subscribe", "/feed.xml", "/unsubscribe/garbage", "/nowhere"):
            headers = client.get(path).headers
            assert headers["referrer-policy"] == "no-referrer", path
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert "script-src" not in headers["content-security-policy"], path
            assert headers["x-content-type-options"] == "nosniff", path


def _request_headers(body: bytes) -> list[tuple[str, str]]:
    return [("Host", "127.0.0.1"), ("Content-Length", str(len(body)))]


def _flood(url: str, request: bytes, body: bytes, count: int) -> Counter[int]:
    """`count` copies of `request` over one connection, pipelined 50 at a time (a client that
    waits for each answer spends longer than the server); the answers' status codes."""
    parts = urlsplit(url)
    seen: Counter[int] = Counter()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        parser = h11.Connection(h11.CLIENT)
        for start in range(0, count, 50):
            batch = min(50, count - start)
            conn.sendall(request * batch)
            answered = 0
            while answered < batch:
                if parser.our_state is h11.IDLE:
                    # h11 reads a response only after "sending" its request (sent above).
                    headers = _request_headers(body)
                    parser.send(h11.Request(method="POST", target="/", headers=headers))
                    parser.send(h11.Data(data=body))
                    parser.send(h11.EndOfMessage())
                event = parser.next_event()
                if event is h11.NEED_DATA:
                    parser.receive_data(conn.recv(65536))
                elif isinstance(event, h11.Response):
                    seen[event.status_code] += 1
                elif isinstance(event, h11.EndOfMessage):
                    answered += 1
                    parser.start_next_cycle()
    return seen


def test_ten_thousand_posts_from_one_address_send_at_most_the_limit(
    isolated_environment: Path, tmp_path: Path
) -> None:
    """The flood runs on SQLite only: past the limit a process answers from memory, without the
    database (test_site_limits.py counts on both backends, across processes)."""
    database_url = f"sqlite:///{tmp_path / 'flood.db'}"
    with running_site(isolated_environment, database_url, signups_per_ip=5) as site:
        with site.client() as client:
            token = form_token(client.get("/subscribe"))
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        body = urlencode({"csrf": token, "email": "victim@example.com"}).encode()
        request = (
            b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Cookie: {cookie}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        with ThreadPoolExecutor(4) as pool:
            floods = pool.map(lambda _: _flood(site.url, request, body, 2500), range(4))
            answers = sum(floods, Counter())
        assert answers == {200: 5, 429: 9995}
        time.sleep(1)
        assert len(site.mail_to("victim@example.com", 2, timeout=3)) == 1


def test_tokens_never_reach_a_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("digest", "uvicorn", "starlette", "sqlalchemy"):
        caplog.set_level(logging.DEBUG, logger=name)
    with site.client() as client:
        sign_up(client, "ada@example.com")
        confirm(site, client, "ada@example.com")
        token = TokenSigner(SECRET).sign("ada@example.com")
        client.get(f"/unsubscribe/{token}")
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        client.get(f"/unsubscribe?token={token}")
    confirm_url = link(site.mail_to("ada@example.com")[0], r"http://\S+/confirm/\S+")
    secrets = [token, confirm_url.rsplit("/", 1)[1]]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert '"GET /unsubscribe/…" 200' in logged and '"GET /confirm/…" 200' in logged
    leaks = [line for line in logged.splitlines() if any(secret in line for secret in secrets)]
    assert not leaks


@pytest.mark.parametrize(
    ("trusted", "recorded"), [("127.0.0.1", "203.0.113.7"), ("none", "127.0.0.1")]
)
def test_the_client_address_comes_from_a_trusted_proxy_only(
    database_url: str, isolated_environment: Path, trusted: str, recorded: str
) -> None:
    with running_site(isolated_environment, database_url, site_trusted_proxies=trusted) as site:
        with site.client() as client:
            page = client.get("/subscribe")
            client.post(
                "/subscribe",
                data={"csrf": form_token(page), "email": "ada@example.com"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        engine = open_engine(site.settings.state_url)
        record = SubscriberStore(engine).get("ada@example.com")
        engine.dispose()
    assert record is not None and record.consent is not None
    assert record.consent.ip == recorded
