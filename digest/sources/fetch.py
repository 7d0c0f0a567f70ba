"""Getting a source's bytes: over HTTP(S) through the shared layer in `digest.http`, or from a
local file within the same size cap.

Every failure becomes one `SourceError` line naming the URL or path and the cause, so a broken
source can be reported and skipped while the others are read.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from digest.config import Settings
from digest.errors import SourceError
from digest.http import Fetched, Http, user_agent

__all__ = ["ACCEPT", "Fetched", "fetch", "load", "read_file", "user_agent"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "text/html;q=0.9, application/xml;q=0.9, text/xml;q=0.9, text/yaml;q=0.8, */*;q=0.5"
)


def load(location: str, settings: Settings, http: Http | None = None) -> Fetched:
    """Read a source given as an http(s) URL, a `file://` URI or a local path."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        return fetch(location, settings, http)
    if scheme == "file":
        return read_file(location, Path(url2pathname(urlsplit(location).path)), settings)
    if len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise SourceError(f"{location}: unsupported scheme {scheme!r}; use http(s) or a file path")
    return read_file(location, Path(location).expanduser(), settings)


def fetch(url: str, settings: Settings, http: Http | None = None) -> Fetched:
    """GET a configured source over `http` (a one-off session when none is given); it may be
    anywhere, an intranet included, and its redirects may stay on its own site."""
    if http is not None:
        return http.get(url, source=url, accept=ACCEPT)
    with Http(settings) as session:
        return session.get(url, source=url, accept=ACCEPT)


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
    except ValueError:  # a NUL byte: no file system can name such a file
        raise SourceError(f"{location!r}: a path cannot hold a NUL byte") from None
    if len(content) > cap:
        raise SourceError(f"{location}: larger than {cap:,} bytes")
    return Fetched(
        content=content,
        url=path.resolve().as_uri(),
        content_type=mimetypes.guess_type(path.name)[0] or "",
    )
