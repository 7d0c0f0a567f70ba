"""The shared HTTP layer against a live server on 127.0.0.1: retries, Retry-After, the on-disk
cache with ETag/Last-Modified, per-host limits, deadlines, partial reads and charsets."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.errors import ConfigError, SourceError
from digest.http import Http, is_reserved, parse_retry_after, user_agent
from digest.http.charset import decode_text
from digest.sources import read_source
from tests.support.http_server import Canned, LocalServer

QUICK = {"fetch_timeout": 0.2, "fetch_retry_delay": 0.001}


def settings(**changes: object) -> Settings:
    return Settings(**{**QUICK, **changes})


def test_500_then_200_is_retried(http_server: LocalServer) -> None:
    url = http_server.add_sequence(
        "/flaky", [Canned(500, b"oops"), Canned(502, b"oops"), Canned(200, b"<rss/>")]
    )
    with Http(settings()) as http:
        assert http.get(url, source=url).content == b"<rss/>"
    assert http_server.hits("/flaky") == 3


def test_retries_give_up_and_say_how_often_they_tried(http_server: LocalServer) -> None:
    url = http_server.url("/_status/503")
    with Http(settings(fetch_retries=3)) as http, pytest.raises(SourceError) as caught:
        http.get(url, source=url)
    assert str(caught.value) == f"{url}: HTTP 503 Service Unavailable (4 attempts)"
    assert http_server.hits("/_status/503") == 4


def test_404_is_not_retried(http_server: LocalServer) -> None:
    url = http_server.url("/_status/404")
    with Http(settings()) as http, pytest.raises(SourceError, match=r"HTTP 404 Not Found$"):
        http.get(url, source=url)
    assert http_server.hits("/_status/404") == 1


def test_429_waits_as_long_as_retry_after_says_not_the_backoff(http_server: LocalServer) -> None:
    """The backoff here is five minutes: the test only ends quickly if Retry-After: 0 is obeyed."""
    url = http_server.add_sequence(
        "/busy", [Canned(429, b"slow down", {"Retry-After": "0"}), Canned(200, b"ok")]
    )
    with Http(settings(fetch_retry_delay=300)) as http:
        assert http.get(url, source=url).content == b"ok"


def test_429_asking_for_too_long_a_wait_fails_at_once(http_server: LocalServer) -> None:
    url = http_server.add("/later", b"", status=429, headers={"Retry-After": "7200"})
    with Http(settings(fetch_retry_after_max=30)) as http, pytest.raises(SourceError) as caught:
        http.get(url, source=url)
    assert str(caught.value) == (
        f"{url}: HTTP 429 Too Many Requests; the server asks to retry after 7200 s, "
        "more than DIGEST_FETCH_RETRY_AFTER_MAX (30 s)"
    )
    assert http_server.hits("/later") == 1


def test_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("120") == 120
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None


def test_timeouts_are_retried_then_reported(http_server: LocalServer) -> None:
    url = http_server.url("/_slow")
    with Http(settings(fetch_retries=1)) as http, pytest.raises(SourceError) as caught:
        http.get(url, source=url)
    assert str(caught.value) == f"{url}: timed out after 0.2 s (2 attempts)"
    assert http_server.hits("/_slow") == 2


def test_a_body_still_arriving_at_the_deadline_is_abandoned(http_server: LocalServer) -> None:
    """A server dripping a byte at a time never trips the read timeout; the deadline stops it."""
    url = http_server.url("/_drip")
    with (
        Http(settings(fetch_timeout=5, fetch_deadline=0.3)) as http,
        pytest.raises(SourceError) as caught,
    ):
        http.get(url, source=url)
    assert str(caught.value) == f"{url}: still downloading after 0.3 s"


def test_redirect_loop_is_one_clear_error(http_server: LocalServer) -> None:
    url = http_server.url("/_redirect-loop")
    with Http(settings()) as http, pytest.raises(SourceError) as caught:
        http.get(url, source=url)
    assert str(caught.value) == f"{url}: too many redirects (more than 5)"


def test_oversized_body_is_refused(http_server: LocalServer) -> None:
    url = http_server.url("/_endless")
    with Http(settings(fetch_max_bytes=5_000)) as http, pytest.raises(SourceError) as caught:
        http.get(url, source=url)
    assert str(caught.value) == f"{url}: larger than 5,000 bytes"


def test_a_limited_read_stops_early_and_is_never_an_error(http_server: LocalServer) -> None:
    with Http(settings(fetch_max_bytes=5_000)) as http:
        url = http_server.url("/_endless")
        head = http.get(url, source=url, limit=100)
    assert head.content == b"x" * 100
    assert not head.complete


def test_etag_revalidation_answers_from_the_cache(http_server: LocalServer) -> None:
    url = http_server.add(
        "/feed.xml", b"<rss>v1</rss>", "application/rss+xml", headers={"ETag": '"v1"'}
    )
    with Http(settings()) as http:
        first = http.get(url, source=url)
    with Http(settings()) as http:
        second = http.get(url, source=url)

    assert (first.content, first.from_cache) == (b"<rss>v1</rss>", False)
    assert (second.content, second.from_cache) == (b"<rss>v1</rss>", True)
    assert second.content_type == "application/rss+xml"
    sent = [headers for path, headers in http_server.requests if path == "/feed.xml"]
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == '"v1"'


def test_last_modified_revalidation_and_a_changed_body(http_server: LocalServer) -> None:
    stamp = "Wed, 25 Nov 2026 06:00:00 GMT"
    url = http_server.add_sequence(
        "/page",
        [
            Canned(200, b"old", {"Last-Modified": stamp}),
            Canned(200, b"old", {"Last-Modified": stamp}),
            Canned(200, b"new", {"Last-Modified": "Thu, 26 Nov 2026 06:00:00 GMT"}),
        ],
    )
    with Http(settings()) as http:
        assert http.get(url, source=url).content == b"old"
        again = http.get(url, source=url)
        assert (again.content, again.from_cache) == (b"old", True)
        changed = http.get(url, source=url)
    assert (changed.content, changed.from_cache) == (b"new", False)
    sent = [headers for path, headers in http_server.requests if path == "/page"]
    assert sent[1]["If-Modified-Since"] == stamp


def test_a_fresh_response_is_not_requested_again(http_server: LocalServer) -> None:
    url = http_server.add("/fresh", b"fresh", headers={"Cache-Control": "max-age=600"})
    with Http(settings()) as http:
        http.get(url, source=url)
        assert http.get(url, source=url).from_cache
    assert http_server.hits("/fresh") == 1


def test_no_store_and_no_validators_are_not_cached(http_server: LocalServer) -> None:
    private = http_server.add(
        "/private", b"x", headers={"Cache-Control": "no-store", "ETag": '"a"'}
    )
    plain = http_server.add("/plain", b"y")
    with Http(settings()) as http:
        for url in (private, plain, private, plain):
            assert not http.get(url, source=url).from_cache
    assert not any(Path(".digest-cache/http").glob("*.json"))


def test_the_cache_can_be_turned_off(http_server: LocalServer) -> None:
    url = http_server.add("/etag", b"x", headers={"ETag": '"a"'})
    with Http(settings(cache_dir="")) as http:
        http.get(url, source=url)
        assert not http.get(url, source=url).from_cache
    assert not Path(".digest-cache").exists()


def test_a_corrupt_cache_entry_is_a_miss(http_server: LocalServer) -> None:
    url = http_server.add("/etag", b"x", headers={"ETag": '"a"'})
    with Http(settings()) as http:
        http.get(url, source=url)
    for meta in Path(".digest-cache/http").glob("*.json"):
        meta.write_text("{not json")
    with Http(settings()) as http:
        assert not http.get(url, source=url).from_cache


def test_pruning_deletes_only_old_cache_entries_not_other_files(http_server: LocalServer) -> None:
    url = http_server.add("/etag", b"x", headers={"ETag": '"a"'})
    with Http(settings()) as http:
        http.get(url, source=url)
    folder = Path(".digest-cache/http")
    mine = folder / "notes.json"
    mine.write_text("{}", encoding="utf-8")
    old = time.time() - 40 * 86_400
    for path in folder.iterdir():
        os.utime(path, (old, old))
    with Http(settings()):
        pass
    assert [path.name for path in folder.iterdir()] == ["notes.json"]


def test_per_host_limit_holds_and_requests_do_overlap(http_server: LocalServer) -> None:
    """The server holds the first requests until two are in flight: two at once proves they run
    concurrently, never three proves the limit."""
    urls = [http_server.url(f"/_hold/{n}") for n in range(6)]
    with Http(settings(fetch_timeout=10, fetch_per_host=2, fetch_concurrency=6)) as http:
        bodies = http.map(lambda url: http.get(url, source=url).content, urls)
    assert bodies == [b"held\n"] * 6
    assert http_server.max_in_flight == 2


def test_the_limit_is_per_host(http_server: LocalServer) -> None:
    """127.0.0.1 and localhost are two hosts to the limiter: one request each overlaps."""
    port = http_server.base.rsplit(":", 1)[1]
    urls = [f"http://127.0.0.1:{port}/_hold/a", f"http://localhost:{port}/_hold/b"]
    with Http(settings(fetch_timeout=10, fetch_per_host=1)) as http:
        http.map(lambda url: http.get(url, source=url), urls)
    assert http_server.max_in_flight == 2


def test_user_agent_names_digest_and_the_contact_url(http_server: LocalServer) -> None:
    contact = "https://news.example.org/about-our-newsletter"
    with Http(settings(contact_url=contact)) as http:
        url = http_server.add("/ua", b"x")
        http.get(url, source=url)
    agent = http_server.requests[-1][1]["User-Agent"]
    assert agent == user_agent(contact)
    assert agent.startswith("digest/")
    assert agent.endswith(f"(+{contact})")


def test_contact_url_must_be_a_url() -> None:
    with pytest.raises(ConfigError, match="DIGEST_CONTACT_URL: expected an http"):
        load_settings(contact_url="me at example dot com")


@pytest.mark.parametrize(
    ("content", "header", "expected"),
    [
        ("café".encode(), "utf-8", "café"),
        ("café".encode("cp1252"), "windows-1252", "café"),
        # The header wins over the document...
        (b'<meta charset="utf-8">caf\xe9', "iso-8859-15", '<meta charset="utf-8">café'),
        # ...unless the bytes contradict it: then the document's own declaration.
        ('<meta charset="windows-1252"><p>“Señor”</p>'.encode("cp1252"), "utf-8", None),
        # An unknown charset name is skipped.
        ("<?xml version='1.0' encoding='utf-8'?><a>ü</a>".encode(), "no-such-charset", None),
        # "ISO-8859-1" (a server's default) on real UTF-8 text is UTF-8.
        ("naïve – “quoted”".encode(), "iso-8859-1", "naïve – “quoted”"),
        # So is any other charset the bytes only fit by accident (every byte is a letter in
        # windows-1251 or KOI8-R; text in them is practically never valid UTF-8).
        ("naïve – “quoted”".encode(), "windows-1251", "naïve – “quoted”"),
        ('<meta charset="koi8-r">naïve'.encode(), None, '<meta charset="koi8-r">naïve'),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        # A document cannot declare UTF-16 in ASCII bytes: read as UTF-8.
        ('<meta charset="utf-16"><p>ø</p>'.encode(), None, None),
        # A byte-order mark beats everything.
        ("\ufeffbom".encode("utf-8"), "iso-8859-1", "bom"),
        ("utf-16 text".encode("utf-16"), None, "utf-16 text"),
    ],
)
def test_charset_order_header_xml_meta(
    content: bytes, header: str | None, expected: str | None
) -> None:
    text = decode_text(content, header)
    if expected is None:
        assert "\ufffd" not in text
        assert any(word in text for word in ("“Señor”", "ü", "ø"))
    else:
        assert text == expected


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r", "utf-16", "iso-8859-1"])
def test_a_wrong_charset_header_garbles_neither_a_feed_nor_a_page(
    http_server: LocalServer, charset: str
) -> None:
    title = "Café crème — “quoted”"
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>{title}</title><link>https://news.test/a</link></item></channel></rss>"
    ).encode()
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{'Naïve façade, déjà vu. ' * 20}</p></body></html>"
    ).encode()
    feed_url = http_server.add("/feed.xml", feed, f"application/rss+xml; charset={charset}")
    page_url = http_server.add("/page.html", page, f"text/html; charset={charset}")

    assert read_source(feed_url, settings())[0].title == title
    [lead] = read_source(page_url, settings())
    assert (lead.title, lead.text.split(",")[0]) == (title, "Naïve façade")


def test_undecodable_bytes_never_crash() -> None:
    garbage = bytes(range(256)) * 4
    assert decode_text(garbage, "utf-8")
    assert decode_text(b'<meta charset="bogus">\x81\x8d\x8f', None)


def test_reserved_domains() -> None:
    assert is_reserved("https://meridian-wire.example.com/2026/11/x")
    assert is_reserved("http://shop.test/a")
    assert not is_reserved("https://www.example-news.com/a")
    assert not is_reserved("http://127.0.0.1:8000/a")
