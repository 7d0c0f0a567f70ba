"""Reading schema.org JSON-LD from a page: the node about its article (through `@graph`s and
`@id` references), and its values as publishers write them, strings or nested objects alike."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import html as lxml_html

from digest.sources.items import plain

ARTICLE_TYPES = frozenset(
    {
        "newsarticle",
        "article",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "liveblogposting",
        "report",
        "socialmediaposting",
    }
)


def json_ld_article(root: lxml_html.HtmlElement, url: str) -> dict[str, Any]:
    """The page's own article node: one of an article type, preferably the one about `url`."""
    nodes = list(_json_ld_nodes(root))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    articles = [node for node in nodes if _types(node) & ARTICLE_TYPES]
    if not articles:
        return {}
    path = urlsplit(url).path.rstrip("/")
    about_page = [
        node
        for node in articles
        if any(
            path and urlsplit(candidate).path.rstrip("/") == path
            for candidate in (id_or_url(node.get("url")), id_or_url(node.get("mainEntityOfPage")))
        )
    ]
    chosen = (about_page or articles)[0]
    return {key: _resolve(value, by_id) for key, value in chosen.items()}


def _json_ld_nodes(root: lxml_html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in root.xpath("//script[@type]"):
        if script.get("type", "").split(";")[0].strip().lower() != "application/ld+json":
            continue
        data = _loads(script.text or "")
        yield from _walk(data)


def _loads(text: str) -> object:
    """JSON-LD as publishers write it: sometimes wrapped in CDATA or comments, with raw newlines
    inside strings (which strict JSON forbids)."""
    text = re.sub(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$", "", text.strip())
    text = re.sub(r"^\s*<!--|-->\s*$", "", text.strip())
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        return None


def _walk(data: object) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        if "@graph" in data:
            yield from _walk(data["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    values = kinds if isinstance(kinds, list) else [kinds]
    return {value.rsplit("/", 1)[-1].lower() for value in values if isinstance(value, str)}


def _resolve(value: object, by_id: dict[str, dict[str, Any]]) -> object:
    """A `{"@id": …}` reference replaced by the node it names (one level: enough for images,
    authors and publishers in Yoast-style `@graph`s)."""
    if isinstance(value, dict) and set(value) == {"@id"} and value["@id"] in by_id:
        return by_id[value["@id"]]
    if isinstance(value, list):
        return [_resolve(item, by_id) for item in value]
    return value


def id_or_url(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    return value if isinstance(value, str) else ""


def text_of(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("text") or value.get("name") or value.get("@value")
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, str)), "")
    return plain(value)


def size_of(value: object) -> object:
    return value.get("value") if isinstance(value, dict) else value


def names_of(value: object) -> str:
    """Names of a Person/Organization, a list of them, or a plain string; never a bare URL."""
    people = value if isinstance(value, list) else [value]
    names = []
    for person in people:
        name = person.get("name") if isinstance(person, dict) else person
        text = plain(name)
        if text and not text.startswith(("http://", "https://")) and text not in names:
            names.append(text)
    return ", ".join(names)


def publisher_name(ld: dict[str, Any]) -> str:
    publisher = ld.get("publisher")
    return publisher.get("name", "") if isinstance(publisher, dict) else ""


def section_of(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return plain(value)
