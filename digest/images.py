"""Local images (a sample's, a curated file's) travel with the issue: copied into its folder,
referenced relatively, with their pixel size read from the file."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import imagesize

from digest.models import Image, Issue, Story
from digest.store import IMAGES_DIR

log = logging.getLogger("digest.images")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _local_path(url: str, issue_folder: Path) -> Path | None:
    """The file behind a `file://` URL or an issue folder's `images/…` path; None if remote."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if not parts.scheme and not parts.netloc and url.startswith(f"{IMAGES_DIR}/"):
        return issue_folder / unquote(url)
    return None


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
        path = _local_path(image.url, issue_folder)
        if path is None:
            return story
        if not path.is_file() or imagesize.get(path) == (-1, -1):
            log.warning("Dropped the image of %r: %s is missing or not an image", story.title, path)
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
