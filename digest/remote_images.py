"""Remote images of the selected stories, checked before they go into an email: each must exist,
be a picture, and not be a tracking pixel or an icon; its width and height are read from its
first bytes when the source did not give them (mail clients lay out better with both); and an
http:// picture is taken over https when the site serves it there too.

A picture that fails is dropped with one warning line, and the story is shown without one; one
that cannot be reached at all (no network) is kept unchecked, with a warning.
Local images (a sample's, a curated file's) are `digest.images`'s job.
"""

from __future__ import annotations

import io
import logging
from urllib.parse import urlsplit, urlunsplit

import imagesize

from digest.config import Settings
from digest.errors import SourceError, Unreachable
from digest.http import ACCEPT_IMAGE, Fetched, Http, is_reserved
from digest.models import Image, Story
from digest.select import Selection
from digest.sources.items import MIN_IMAGE_SIDE

log = logging.getLogger("digest.images")

PEEKS = (65_536, 524_288)
"""Bytes read to find the size: most formats say it at once; a JPEG after a large EXIF block
needs more. Never the whole picture."""


def check_selection_images(selection: Selection, settings: Settings) -> Selection:
    """The selection with every remote image checked (see the module's docstring); as it is
    when DIGEST_FETCH_SOURCES_ONLY forbids reading anything but the sources."""
    stories = [selection.lead, *selection.more]
    if settings.fetch_sources_only or not any(_is_remote(story.image) for story in stories):
        return selection
    with Http(settings) as http:
        checked = http.map(lambda story: check_story_image(story, http), stories)
    return selection.model_copy(update={"lead": checked[0], "more": checked[1:]})


def check_story_image(story: Story, http: Http) -> Story:
    image = story.image
    if image is None or not _is_remote(image):
        return story
    problems: list[SourceError] = []
    for url in https_first(image.url):
        try:
            checked = check_image(image.model_copy(update={"url": url}), story.source, http)
        except SourceError as error:
            problems.append(error)
            continue
        return story.model_copy(update={"image": checked})
    if all(isinstance(problem, Unreachable) for problem in problems):
        # The network, not the picture, failed: readers' mail clients may well reach it.
        log.warning("Kept the image of %r unchecked: %s", story.title, problems[-1])
        return story
    log.warning("Dropped the image of %r: %s", story.title, problems[-1])
    return story.model_copy(update={"image": None})


def check_image(image: Image, source: str, http: Http) -> Image:
    """`image` (found in `source`) with its size filled in; SourceError when it is missing, not
    a picture or tiny, and Refused when the fetch policy keeps it from a non-public address (it
    is dropped then: an email must not make readers' mail clients call into their own networks
    either)."""
    fetched, size = _peek(image.url, source, http)
    if size == (-1, -1) and not _says_image(fetched):
        kind = fetched.content_type or "of no declared type"
        raise SourceError(f"{image.url}: not an image ({kind})")
    width = image.width or (size[0] if size[0] > 0 else None)
    height = image.height or (size[1] if size[1] > 0 else None)
    if any(side is not None and side < MIN_IMAGE_SIDE for side in (width, height)):
        raise SourceError(f"{image.url}: too small to show ({width}×{height} px)")
    return image.model_copy(update={"width": width, "height": height})


def _peek(url: str, source: str, http: Http) -> tuple[Fetched, tuple[int, int]]:
    """The first bytes of a picture and the size they tell, (-1, -1) when they do not."""
    for limit in PEEKS:
        fetched = http.get(url, source=source, accept=ACCEPT_IMAGE, limit=limit)
        size = imagesize.get(io.BytesIO(fetched.content))
        if size != (-1, -1) or fetched.complete or not _says_image(fetched):
            break
    return fetched, size


def _says_image(fetched: Fetched) -> bool:
    return fetched.content_type.startswith("image/")


def _is_remote(image: Image | None) -> bool:
    return (
        image is not None
        and urlsplit(image.url).scheme in ("http", "https")
        and not is_reserved(image.url)
    )


def https_first(url: str) -> list[str]:
    """https first: an http:// picture in an email shows a warning in some clients. A URL with
    its own port says where the site serves it; only default-port pictures are tried on https."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.port is not None:
        return [url]
    return [urlunsplit(("https", *parts[1:])), url]
