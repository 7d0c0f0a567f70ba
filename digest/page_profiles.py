"""Page profiles: CSS selectors that tell the page reader where a site keeps its related stories,
for the sites whose markup the default heuristics misread.

`DIGEST_PAGE_PROFILES` is JSON text or the path of a YAML/JSON file mapping a host name to a
profile; a profile for `example.com` also serves `www.example.com`:

    www.gzeromedia.com:
      container: "section.more-for-you"     # the rail (required)
      item: "article"                       # one story, inside the container (required)
      title: "h3"                           # the rest are inside the item and optional
      link: "h3 a"
      image: "img"
      caption: ".caption"
      credit: ".credit"
      excerpt: ".excerpt"

Selectors are compiled when the settings are read, so a typo fails at start with its name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from cssselect import GenericTranslator, SelectorError
from pydantic import BaseModel, ConfigDict, Field, field_validator

_TRANSLATOR = GenericTranslator()


class PageProfile(BaseModel):
    """Where one site's "More For You" rail and the parts of its items are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    container: str = Field(min_length=1)
    item: str = Field(min_length=1)
    title: str = ""
    link: str = ""
    image: str = ""
    caption: str = ""
    credit: str = ""
    excerpt: str = ""

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: str) -> str:
        if value:
            try:
                _TRANSLATOR.css_to_xpath(value)
            except SelectorError as exc:
                raise ValueError(f"not a CSS selector: {value!r} ({exc})") from None
        return value.strip()


def read_page_profiles(value: str) -> dict[str, Any]:
    """The profiles mapping from JSON text (starting with `{`) or a YAML/JSON file's path."""
    text = value.strip()
    if not text:
        return {}
    if not text.startswith("{"):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        problem = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).splitlines()[0]
        raise ValueError(f"not valid JSON or YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("expected a mapping of host name to profile")
    return {str(host).strip().lower().rstrip("."): profile for host, profile in data.items()}


def profile_for(host: str, profiles: dict[str, PageProfile]) -> PageProfile | None:
    """The profile of `host` or of the nearest parent domain that has one."""
    name = host.lower().rstrip(".")
    while name:
        if name in profiles:
            return profiles[name]
        name = name.partition(".")[2]
    return None
