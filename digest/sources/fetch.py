"""Getting a source's bytes: over HTTP(S) within a time and size budget, or from a local file.

Every failure becomes one `SourceError` line naming the URL or path and the cause, so a broken
source can be reported and skipped while the others are read.
"""

from __future__ import annotations

import http
import mimetypes
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
from pydantic import BaseModel, ConfigDict

from digest.config import Settings
from digest.errors import SourceError

MAX_REDIRECTS = 5
PROJECT_URL = "https://github.com/digest-newsletter/digest"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/yaml;q=0.8, */*;q=0.5"
)


class Fetched(BaseModel):
    """A source's bytes and what came with them; `url` is the final URL after redirects
    (a `file://` URI for a local file), which relative links in the source resolve against."""

    model_config = ConfigDict(frozen=True)

    content: bytes
    url: str
    content_type: str = ""
    charset: str | None = None

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file:")


def user_agent() -> str:
    """Publishers block anonymous clients; name ourselves and where to read about us."""
    try:
        version = metadata.version("digest")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"digest/{version} (+{PROJECT_URL})"


def load(location: str, settings: Settings) -> Fetched:
    """Read a source given as an http(s) URL, a `file://` URI or a local path."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        return fetch(location, settings)
    if scheme == "file":
        return read_file(location, Path(url2pathname(urlsplit(location).path)), settings)
    if len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise SourceError(f"{location}: unsupported scheme {scheme!r}; use http(s) or a file path")
    return read_file(location, Path(location).expanduser(), settings)


def fetch(url: str, settings: Settings) -> Fetched:
    """GET `url`, following up to five redirects, streaming so a huge body is never held whole."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceError(f"{url}: unsupported scheme {scheme!r}; only http and https are fetched")
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(settings.fetch_timeout),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"User-Agent": user_agent(), "Accept": ACCEPT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise SourceError(f"{url}: HTTP {response.status_code} {_phrase(response)}")
            content = _read_capped(response, url, settings.fetch_max_bytes)
            media_type = response.headers.get("content-type", "").partition(";")[0]
            return Fetched(
                content=content,
                url=str(response.url),
                content_type=media_type.strip().lower(),
                charset=response.charset_encoding,
            )
    except httpx.TimeoutException:
        raise SourceError(f"{url}: timed out after {settings.fetch_timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise SourceError(f"{url}: too many redirects (more than {MAX_REDIRECTS})") from None
    except httpx.ConnectError as exc:
        raise SourceError(f"{url}: cannot connect: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: request failed: {_reason(exc)}") from None


def read_file(location: str, path: Path, settings: Settings) -> Fetched:
    """Read a local source, refusing one larger than the fetch size cap like a download would."""
    cap = settings.fetch_max_bytes
    try:
        with path.open("rb") as handle:
            content = handle.read(cap + 1)
    except FileNotFoundError:
        raise SourceError(f"{location}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{location}: is a folder, not a file") from None
    except PermissionError:
        raise SourceError(f"{location}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"{location}: cannot read: {exc.strerror or exc}") from None
    if len(content) > cap:
        raise SourceError(f"{location}: larger than {cap:,} bytes")
    return Fetched(
        content=content,
        url=path.resolve().as_uri(),
        content_type=mimetypes.guess_type(path.name)[0] or "",
    )


def _read_capped(response: httpx.Response, url: str, cap: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise SourceError(f"{url}: larger than {cap:,} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise SourceError(f"{url}: larger than {cap:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _phrase(response: httpx.Response) -> str:
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase or "error"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
