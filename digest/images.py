"""Local images (a sample's, a curated file's) travel with the issue: copied into its folder,
referenced relatively, with their pixel size read from the file."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import imagesize

from digest.models import Image, Issue, Story
from digest.store import IMAGES_DIR, image_file

log = logging.getLogger("digest.images")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    in_folder = not parts.scheme and not parts.netloc and url.startswith(f"{IMAGES_DIR}/")
    return parts.scheme == "file" or in_folder


def _local_file(url: str, issue_folder: Path) -> Path | None:
    """The picture behind a `file://` URL (an image beside a local source) or an issue folder's
    `images/…` path, which must stay inside that folder's `images/`; None when there is none."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
    else:
        found = image_file(issue_folder, unquote(url).removeprefix(f"{IMAGES_DIR}/"))
        if found is None:
            return None
        path = found
    try:
        usable = path.is_file() and imagesize.get(path) != (-1, -1)
    except (OSError, ValueError):
        return None
    return path if usable else None


def _with_size(image: Image, path: Path) -> Image:
    if image.width and image.height:
        return image
    width, height = imagesize.get(path)
    if width <= 0 or height <= 0:
        return image
    return image.model_copy(update={"width": width, "height": height})


def localize_images(issue: Issue, issue_folder: Path) -> tuple[Issue, dict[str, Path]]:
    """Point local images at `images/NAME` in the issue folder; say which files to copy there.

    A local image that is missing or not an image is dropped with a warning: the story shows
    without it."""
    files: dict[str, Path] = {}

    def place(story: Story) -> Story:
        image = story.image
        if image is None:
            return story
        if not _is_local(image.url):
            return story
        path = _local_file(image.url, issue_folder)
        if path is None:
            log.warning(
                "Dropped the image of %r: %s is missing, not an image, or outside the issue folder",
                story.title,
                image.url,
            )
            return story.model_copy(update={"image": None})
        name = _UNSAFE.sub("-", path.name).strip("-.") or "image"
        stem, dot, suffix = name.rpartition(".")
        unique, counter = name, 1
        while unique in files and files[unique] != path:
            counter += 1
            unique = f"{stem}-{counter}{dot}{suffix}" if dot else f"{name}-{counter}"
        files[unique] = path
        placed = _with_size(image, path).model_copy(update={"url": f"{IMAGES_DIR}/{unique}"})
        return story.model_copy(update={"image": placed})

    placed = issue.model_copy(
        update={"lead": place(issue.lead), "more": [place(story) for story in issue.more]}
    )
    return placed, files
