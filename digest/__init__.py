"""digest: build a daily newsletter from feeds, pages and curated files, and send it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("digest")
except PackageNotFoundError:
    __version__ = "0.0.0"
