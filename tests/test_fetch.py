"""Fetching against a live server on 127.0.0.1, and reading local files."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.sources import read_source
from digest.sources.fetch import fetch, load, user_agent
from tests.support.http_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def test_fetch_returns_body_type_charset_and_final_url(http_server: LocalServer) -> None:
    url = http_server.add("/feeds/news", b"<rss/>", "application/rss+xml; charset=ISO-8859-1")

    fetched = fetch(url, Settings())

    assert fetched.content == b"<rss/>"
    assert fetched.url == url
    assert fetched.content_type == "application/rss+xml"
    assert fetched.charset == "iso-8859-1"
    assert not fetched.is_local


def test_fetch_names_itself_in_the_user_agent(http_server: LocalServer) -> None:
    fetch(http_server.url("/sources/bbc.xml"), Settings())

    path, headers = http_server.requests[-1]
    assert path == "/sources/bbc.xml"
    assert headers["User-Agent"] == user_agent()
    assert user_agent().startswith("digest/")
    assert user_agent().endswith("(+https://github.com/digest-newsletter/digest)")


def test_fetch_follows_redirects_and_reports_the_final_url(http_server: LocalServer) -> None:
    fetched = fetch(http_server.url("/_redirect/5/sources/bbc.xml"), Settings())

    assert fetched.url == http_server.url("/sources/bbc.xml")
    assert fetched.content == (FIXTURES / "bbc.xml").read_bytes()


@pytest.mark.parametrize("path", ["/_redirect-loop", "/_redirect/6/sources/bbc.xml"])
def test_too_many_redirects(http_server: LocalServer, path: str) -> None:
    url = http_server.url(path)
    with pytest.raises(SourceError, match="too many redirects") as caught:
        fetch(url, Settings())
    assert str(caught.value).startswith(f"{url}: ")


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "HTTP 404 Not Found"), (503, "HTTP 503 Service Unavailable (3 attempts)")],
)
def test_http_errors_name_the_url_and_status(
    http_server: LocalServer, status: int, message: str
) -> None:
    url = http_server.url(f"/_status/{status}")
    with pytest.raises(SourceError) as caught:
        fetch(url, Settings(fetch_retry_delay=0))
    assert str(caught.value) == f"{url}: {message}"


def test_missing_file_on_the_server_is_a_404(http_server: LocalServer) -> None:
    with pytest.raises(SourceError, match="HTTP 404 Not Found"):
        fetch(http_server.url("/sources/no-such-feed.xml"), Settings())


def test_slow_server_times_out(http_server: LocalServer) -> None:
    url = http_server.url("/_slow")
    with pytest.raises(SourceError) as caught:
        fetch(url, Settings(fetch_timeout=0.2, fetch_retries=0))
    assert str(caught.value) == f"{url}: timed out after 0.2 s"


@pytest.mark.parametrize("path", ["/_big", "/_endless"])
def test_oversized_body_is_refused_while_streaming(http_server: LocalServer, path: str) -> None:
    """`/_endless` never ends and sends no length: only a streaming cap can stop it."""
    url = http_server.url(path)
    with pytest.raises(SourceError) as caught:
        fetch(url, Settings(fetch_max_bytes=1_000))
    assert str(caught.value) == f"{url}: larger than 1,000 bytes"


def test_default_size_cap_is_reported_with_thousands_separators(http_server: LocalServer) -> None:
    with pytest.raises(SourceError, match="larger than 10,000,000 bytes"):
        fetch(http_server.url("/_big"), Settings())


def test_cannot_connect_to_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    with pytest.raises(SourceError) as caught:
        fetch(url, Settings(fetch_timeout=2))
    assert str(caught.value).startswith(f"{url}: cannot connect: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://example.com/feed.xml", "file:///etc/hostname"])
def test_fetch_only_speaks_http(url: str) -> None:
    with pytest.raises(SourceError, match="only http and https"):
        fetch(url, Settings())


def test_load_refuses_other_schemes() -> None:
    with pytest.raises(SourceError, match=r"^gopher://x/feed: unsupported scheme 'gopher'"):
        load("gopher://x/feed", Settings())


def test_load_reads_paths_and_file_uris() -> None:
    path = FIXTURES / "atom.xml"
    by_path = load(str(path), Settings())
    by_uri = load(path.as_uri(), Settings())

    assert by_path.content == by_uri.content == path.read_bytes()
    assert by_path.url == path.resolve().as_uri()
    assert by_path.is_local
    assert by_path.content_type == "application/xml"


def test_load_names_a_missing_file() -> None:
    with pytest.raises(SourceError) as caught:
        load("feeds/missing.xml", Settings())
    assert str(caught.value) == "feeds/missing.xml: no such file"


def test_load_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a folder, not a file"):
        load(str(tmp_path), Settings())


def test_load_names_an_unreadable_path(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "feed.xml"
    not_a_folder.write_text("<rss/>")
    with pytest.raises(SourceError, match=r"feed\.xml/inner\.xml: cannot read: Not a directory"):
        load(str(not_a_folder / "inner.xml"), Settings())


def test_load_refuses_an_oversized_local_file(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 1_001)
    with pytest.raises(SourceError, match="larger than 1,000 bytes"):
        load(str(big), Settings(fetch_max_bytes=1_000))


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "image/jpeg", "image/jpeg"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf", "application/pdf"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "", "binary data"),
    ],
)
def test_a_source_that_is_not_text_says_what_it_is(
    http_server: LocalServer, body: bytes, content_type: str, problem: str
) -> None:
    """Not "not a feed: 2:0: not well-formed (invalid token)"."""
    url = http_server.add("/download", body, content_type)
    with pytest.raises(SourceError) as caught:
        read_source(url, Settings())
    assert str(caught.value) == f"{url}: {problem}, not a feed or a web page"


def test_a_local_picture_given_as_a_source_says_what_it_is(tmp_path: Path) -> None:
    picture = tmp_path / "harbour.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    with pytest.raises(SourceError) as caught:
        read_source(str(picture), Settings())
    assert str(caught.value) == f"{picture}: image/jpeg, not a feed or a web page"
