"""Sources: feeds and curated files in, one de-duplicated `list[Story]` out.

A location is a local path or an http(s) URL. Its kind is recognised from its content, not
its name (a URL such as `/feed` has no extension): JSON whose `version` starts with
`https://jsonfeed.org/version/` (or http://) is a JSON Feed; YAML or JSON with top-level `lead`,
`more` or `stories` is a curated file; an HTML document is a news page (its article leads, its
related stories follow); anything else goes to feedparser as RSS or Atom.

All sources are fetched concurrently through one `Http` session (per-host limits, retries, the
on-disk cache); their stories keep the order of the locations, so de-duplication is stable.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import urlencode, urlsplit, urlunsplit

from digest.config import Settings
from digest.errors import SourceError
from digest.http import Http
from digest.models import Story
from digest.page_profiles import PageProfile
from digest.sources.curated import is_curated, parse_curated
from digest.sources.decode import decode_json, decode_yaml
from digest.sources.feed import parse_feed
from digest.sources.fetch import Fetched, load
from digest.sources.items import tracking_free_query, unshouted
from digest.sources.jsonfeed import is_json_feed, parse_json_feed
from digest.sources.language import with_language
from digest.sources.page import is_page, parse_page
from digest.sources.widechars import as_utf8

__all__ = ["canonical_url", "gather", "read_source", "title_key"]

log = logging.getLogger("digest.sources")

YAML_SUFFIXES = frozenset({".yaml", ".yml"})
_SPACE = re.compile(r"\s+")


def gather(locations: list[str], settings: Settings) -> list[Story]:
    """Read every source, combine, de-duplicate; a broken source is one warning line and
    the rest go on."""

    def read(location: str) -> list[Story] | SourceError:
        try:
            return read_source(location, settings, http)
        except SourceError as error:
            return error

    with Http(settings) as http:
        results = http.map(read, locations)
    stories: list[Story] = []
    failures: list[SourceError] = []
    for result in results:
        if isinstance(result, SourceError):
            failures.append(result)
        else:
            stories.extend(result)
    every_source_failed = bool(locations) and len(failures) == len(locations)
    # When nothing could be read, the first failure is the error itself: not also a warning.
    for failure in failures[1:] if every_source_failed else failures:
        log.warning("Could not read %s", failure)
    if every_source_failed:
        others = len(failures) - 1
        more = f" (and {others} more source{'s' if others > 1 else ''} failed)" if others else ""
        raise SourceError(f"{failures[0]}{more}")
    return deduplicate(stories)


def read_source(location: str, settings: Settings, http: Http | None = None) -> list[Story]:
    """One source (local path or http(s) URL); raises SourceError('<location>: <problem>').

    A reader that fails in a way it did not foresee (a bug in digest) is one such line too, so an
    odd source never costs the others; its traceback is logged at debug level."""
    fetched = load(location, settings, http)
    try:
        return parse_source(fetched, location, settings.page_profiles)
    except SourceError:
        raise
    except Exception as exc:
        log.debug("%s: unexpected error while reading it", location, exc_info=True)
        detail = " ".join(str(exc).split())[:200]
        raise SourceError(
            f"{location}: could not be read, a bug in digest ({type(exc).__name__}: {detail})"
        ) from exc


def parse_source(
    fetched: Fetched, location: str, profiles: dict[str, PageProfile] | None = None
) -> list[Story]:
    """Stories of a source's bytes, whatever kind of source they turn out to be."""
    fetched = as_utf8(fetched)
    start = fetched.content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    suffix = PurePosixPath(urlsplit(fetched.url).path).suffix.lower()
    if start in (b"{", b"["):
        data = decode_json(fetched.content, location)
        if is_json_feed(data):
            return _published(parse_json_feed(data, fetched, location))
        if is_curated(data) or suffix == ".json":
            return parse_curated(data, fetched, location)
        raise SourceError(
            f"{location}: JSON, but neither a JSON Feed (version https://jsonfeed.org/version/…) "
            "nor a curated file (lead/more/stories)"
        )
    if is_page(fetched):
        return _published(parse_page(fetched, location, profiles))
    if start != b"<":
        data = decode_yaml(fetched.content, location, strict=suffix in YAML_SUFFIXES)
        if is_curated(data) or suffix in YAML_SUFFIXES:
            return parse_curated(data, fetched, location)
    return _published(parse_feed(fetched, location))


def _published(stories: list[Story]) -> list[Story]:
    """A publisher's stories in the language their words are in when the source declares none,
    with titles written in capitals not shouted; an editor's curated stories stay as written."""
    return [
        story
        if story.title == (title := unshouted(story.title, story.language))
        else story.model_copy(update={"title": title})
        for story in with_language(stories)
    ]


def deduplicate(stories: list[Story]) -> list[Story]:
    """Drop repeats (same canonical URL or same title); the first wins, but a later copy's
    lead mark or editor's teaser is kept."""
    kept: list[Story] = []
    seen: dict[str, int] = {}
    for story in stories:
        keys = [f"url:{canonical_url(story.url)}", f"title:{title_key(story.title)}"]
        keys = [key for key in keys if not key.endswith(":")]
        index = next((seen[key] for key in keys if key in seen), None)
        if index is None:
            index = len(kept)
            kept.append(story)
        else:
            kept[index] = _merge(kept[index], story)
        for key in keys:
            seen.setdefault(key, index)
    return kept


def _merge(first: Story, later: Story) -> Story:
    changes: dict[str, object] = {}
    if later.lead and not first.lead:
        changes["lead"] = True
    if later.teaser and not first.teaser:
        changes["teaser"] = later.teaser
    return first.model_copy(update=changes) if changes else first


def canonical_url(url: str) -> str:
    """The form of a URL used to recognise the same story: scheme and host lower-case, http
    and https equal, default port, fragment, tracking parameters and trailing slash dropped."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return text
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted(tracking_free_query(parts.query)))
    return urlunsplit(("https", host, parts.path.rstrip("/"), query, ""))


def title_key(title: str) -> str:
    """A title folded for comparison: case, punctuation and white space do not count."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    kept = "".join(
        " " if char.isspace() else char
        for char in folded
        if not unicodedata.category(char).startswith("P")
    )
    return _SPACE.sub(" ", kept).strip()
