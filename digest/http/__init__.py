"""The one HTTP layer: every feed, page, article and image digest reads from the web goes here.

A `Http` session is opened per stage of a build and shared by its threads. It is polite (a
User-Agent naming digest and a contact URL, at most `fetch_per_host` requests per host at once),
patient where that pays (retries with doubling backoff on timeouts, dropped connections, 5xx and
429, whose `Retry-After` is honoured up to `fetch_retry_after_max`), and careful (capped
redirects, connect/read timeouts, a whole-response deadline, a size cap enforced while
streaming). Complete bodies are kept in an on-disk cache and revalidated with ETag and
Last-Modified, so an unchanged feed or article costs one `304 Not Modified`.

Every failure is a `SourceError` whose one-line message names the URL and the cause.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from digest import __version__
from digest.config import Settings
from digest.errors import Refused, SourceError, Unreachable
from digest.http.charset import decode_text
from digest.http.policy import FetchPolicy
from digest.http.transport import SOURCE, PolicyTransport, PrivateAddress

MAX_REDIRECTS = 5
CACHE_KEEP_DAYS = 30
_CACHE_NAME = re.compile(r"[0-9a-f]{64}\.(?:json|body)")
"""Cache entries not used for this long are deleted when a session opens."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ACCEPT_ANY = "*/*"
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ACCEPT_IMAGE = "image/avif, image/webp, image/png, image/jpeg, image/*;q=0.9, */*;q=0.5"
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid", "test")
"""RFC 2606/6761 names that never lead to a real site: samples and fixtures use them."""

_CHUNK = 65_536

T = TypeVar("T")
R = TypeVar("R")


class Fetched(BaseModel):
    """A response body and what came with it; `url` is the final URL after redirects (a `file://`
    URI for a local file), which relative links in the body resolve against."""

    model_config = ConfigDict(frozen=True)

    content: bytes
    url: str
    content_type: str = ""
    charset: str | None = None
    from_cache: bool = False
    complete: bool = True

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file:")

    def text(self) -> str:
        """The body as text, decoded as `decode_text` decides."""
        return decode_text(self.content, self.charset)


@cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle takes a tenth of a second; do it once per process, not per session."""
    return ssl.create_default_context(cafile=certifi.where())


def user_agent(contact_url: str = "https://github.com/digest-newsletter/digest") -> str:
    """Publishers block anonymous clients; name ourselves and where to reach whoever runs us."""
    return f"digest/{__version__} (+{contact_url})"


def is_reserved(url: str) -> bool:
    """Whether `url` is on a documentation domain (example.com, *.test…), never worth a request."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == name or host.endswith("." + name) for name in RESERVED_DOMAINS)


class _Entry(BaseModel):
    """What the cache remembers of a response, next to its body file."""

    model_config = ConfigDict(extra="ignore")

    url: str
    final_url: str
    content_type: str = ""
    charset: str | None = None
    etag: str = ""
    last_modified: str = ""
    fresh_until: float = 0.0
    trusted_hops: list[str] = []
    """URLs on the way (redirects included) that were allowed non-public addresses: the entry
    serves only a request whose source allows them too."""

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HttpCache:
    """Complete response bodies on disk, keyed by the requested URL, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.folder / f"{key}.json", self.folder / f"{key}.body"

    def lookup(self, url: str) -> tuple[_Entry, bytes] | None:
        meta, body = self._paths(url)
        try:
            entry = _Entry.model_validate_json(meta.read_bytes())
            content = body.read_bytes()
        except (OSError, ValidationError):
            return None
        return (entry, content) if entry.url == url else None

    def store(
        self, url: str, fetched: Fetched, headers: httpx.Headers, trusted_hops: list[str]
    ) -> None:
        control = _cache_control(headers)
        validators = {
            "etag": headers.get("etag", ""),
            "last_modified": headers.get("last-modified", ""),
        }
        max_age = _max_age(control)
        if "no-store" in control or not (any(validators.values()) or max_age):
            return
        entry = _Entry(
            url=url,
            final_url=fetched.url,
            content_type=fetched.content_type,
            charset=fetched.charset,
            fresh_until=time.time() + max_age if "no-cache" not in control else 0.0,
            trusted_hops=trusted_hops,
            **validators,
        )
        meta, body = self._paths(url)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(body, fetched.content)
            _write_atomic(meta, entry.model_dump_json().encode("utf-8"))
        except OSError:
            return  # a cache that cannot be written only costs a download next time

    def touch(self, url: str) -> None:
        """Mark an entry as used, so pruning keeps it."""
        for path in self._paths(url):
            try:
                path.touch()
            except OSError:
                return

    def prune(self, keep_days: float = CACHE_KEEP_DAYS) -> None:
        """Delete entries unused for `keep_days`: only files named as entries are, whatever else
        the configured folder holds."""
        cutoff = time.time() - keep_days * 86_400
        try:
            paths = list(self.folder.iterdir())
        except OSError:
            return
        for path in paths:
            try:
                ours = _CACHE_NAME.fullmatch(path.name) is not None
                if ours and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _cache_control(headers: httpx.Headers) -> set[str]:
    return {part.strip().lower() for part in headers.get("cache-control", "").split(",")}


def _max_age(control: set[str]) -> float:
    for directive in control:
        name, _, value = directive.partition("=")
        if name == "max-age" and value.strip().isdigit():
            return float(value)
    return 0.0


class _Retry(Exception):
    """An attempt failed in a way worth another try after `wait` seconds."""

    def __init__(self, reason: str, wait: float | None = None, *, network: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.network = network


class Http:
    """One session: pooled connections, per-host limits and the cache, shared by threads.

    Use it as a context manager; `map` runs a function over items on `fetch_concurrency`
    threads, which is how sources, articles and images are fetched concurrently."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = FetchPolicy(
            frozenset(settings.fetch_allow_private), sources_only=settings.fetch_sources_only
        )
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.fetch_timeout, connect=settings.fetch_connect_timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": user_agent(settings.contact_url)},
            transport=PolicyTransport(
                self.policy,
                _tls_context(),
                httpx.Limits(max_connections=settings.fetch_concurrency),
            ),
        )
        self.cache = HttpCache(settings.cache_dir / "http") if settings.cache_dir else None
        if self.cache:
            self.cache.prune()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    def __enter__(self) -> Http:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`function` over `items` on up to `fetch_concurrency` threads; results in input order."""
        work = list(items)
        if len(work) <= 1:
            return [function(item) for item in work]
        workers = min(self.settings.fetch_concurrency, len(work))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest-http") as pool:
            return list(pool.map(function, work))

    def get(
        self, url: str, *, source: str, accept: str = ACCEPT_ANY, limit: int | None = None
    ) -> Fetched:
        """GET `url`, found in (or configured as) the source `source`, under the fetch policy
        (`digest.http.policy`): pass the URL itself as `source` for a configured source. With
        `limit`, read at most that many bytes and stop (never cached): enough to see what an
        image is without downloading it."""
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise SourceError(
                f"{url}: unsupported scheme {scheme!r}; only http and https are fetched"
            )
        if not urlsplit(url).hostname:
            raise SourceError(f"{url}: no host name in the URL")
        if not self.policy.may_fetch(url, source):
            raise Refused(f"{url}: not fetched: DIGEST_FETCH_SOURCES_ONLY reads only the sources")
        cache = self.cache if limit is None else None
        cached = cache.lookup(url) if cache else None
        if cached and not self._allowed(cached[0].trusted_hops, source):
            cached = None
        if cache and cached and cached[0].fresh_until > time.time():
            cache.touch(url)
            return _from_entry(*cached)
        headers = {"Accept": accept, **(cached[0].validators() if cached else {})}
        retries = self.settings.fetch_retries
        with self._host_slot(url):
            for attempt in range(retries + 1):
                try:
                    return self._attempt(url, source, headers, cached, limit)
                except _Retry as retry:
                    if attempt == retries:
                        tries = f" ({attempt + 1} attempts)" if attempt else ""
                        error = Unreachable if retry.network else SourceError
                        raise error(f"{url}: {retry.reason}{tries}") from None
                    backoff = self.settings.fetch_retry_delay * 2**attempt
                    time.sleep(backoff if retry.wait is None else retry.wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    @contextmanager
    def _host_slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).netloc or "").lower()
        with self._hosts_lock:
            slot = self._hosts.setdefault(
                host, threading.BoundedSemaphore(self.settings.fetch_per_host)
            )
        with slot:
            yield

    def _allowed(self, hops: Iterable[str], source: str) -> bool:
        return all(self.policy.may_reach_private(hop, source) for hop in hops)

    def _attempt(
        self,
        url: str,
        source: str,
        headers: dict[str, str],
        cached: tuple[_Entry, bytes] | None,
        limit: int | None,
    ) -> Fetched:
        settings = self.settings
        try:
            with self._client.stream(
                "GET", url, headers=headers, extensions={SOURCE: source}
            ) as response:
                if response.status_code == 304 and cached:
                    return self._revalidated(url, cached)
                if response.status_code in RETRY_STATUSES:
                    raise _Retry(_status(response), self._retry_after(url, response))
                if not response.is_success:
                    raise SourceError(f"{url}: {_status(response)}")
                if limit is None:
                    content = _read_capped(response, url, settings.fetch_max_bytes, settings)
                else:
                    content = _read_head(response, limit)
                media_type = response.headers.get("content-type", "").partition(";")[0]
                fetched = Fetched(
                    content=content,
                    url=str(response.url),
                    content_type=media_type.strip().lower(),
                    charset=response.charset_encoding,
                    complete=limit is None or len(content) < limit,
                )
                if self.cache and limit is None:
                    hops = [str(hop.request.url) for hop in (*response.history, response)]
                    trusted = [hop for hop in hops if self._allowed([hop], source)]
                    self.cache.store(url, fetched, response.headers, trusted)
                return fetched
        except PrivateAddress as exc:
            raise Refused(
                f"{url}: not fetched: {exc}, off the site of its source "
                f"(DIGEST_FETCH_ALLOW_PRIVATE can allow {exc.host})"
            ) from None
        except httpx.ConnectTimeout:
            raise _Retry(
                f"no connection within {settings.fetch_connect_timeout:g} s", network=True
            ) from None
        except httpx.TimeoutException:
            raise _Retry(f"timed out after {settings.fetch_timeout:g} s", network=True) from None
        except httpx.TooManyRedirects:
            raise SourceError(f"{url}: too many redirects (more than {MAX_REDIRECTS})") from None
        except httpx.ConnectError as exc:
            raise Unreachable(f"{url}: cannot connect: {_reason(exc)}") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retry(f"connection dropped: {_reason(exc)}", network=True) from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: request failed: {_reason(exc)}") from None

    def _revalidated(self, url: str, cached: tuple[_Entry, bytes]) -> Fetched:
        if self.cache:
            self.cache.touch(url)
        return _from_entry(*cached)

    def _retry_after(self, url: str, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait; one asking longer than we will wait ends it."""
        wait = parse_retry_after(response.headers.get("retry-after", ""))
        if wait is None:
            return None
        longest = self.settings.fetch_retry_after_max
        if wait > longest:
            raise SourceError(
                f"{url}: {_status(response)}; the server asks to retry after {wait:g} s, "
                f"more than DIGEST_FETCH_RETRY_AFTER_MAX ({longest:g} s)"
            )
        return wait


def parse_retry_after(value: str, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delay-seconds or an HTTP date; None when absent/bad."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _from_entry(entry: _Entry, content: bytes) -> Fetched:
    return Fetched(
        content=content,
        url=entry.final_url,
        content_type=entry.content_type,
        charset=entry.charset,
        from_cache=True,
    )


def _read_capped(response: httpx.Response, url: str, cap: int, settings: Settings) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise SourceError(f"{url}: larger than {cap:,} bytes")
    started = time.monotonic()
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise SourceError(f"{url}: larger than {cap:,} bytes")
        if time.monotonic() - started > settings.fetch_deadline:
            raise SourceError(f"{url}: still downloading after {settings.fetch_deadline:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_head(response: httpx.Response, limit: int) -> bytes:
    head = bytearray()
    for chunk in response.iter_bytes(min(limit, _CHUNK)):
        head += chunk
        if len(head) >= limit:
            break
    return bytes(head[:limit])


def _status(response: httpx.Response) -> str:
    try:
        phrase = http.HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {phrase}"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
