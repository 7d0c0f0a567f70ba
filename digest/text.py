"""Turning source HTML into clean plain text."""

from __future__ import annotations

import html
import re

from lxml import html as lxml_html

_SPACE = re.compile(r"\s+")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, white space folded."""
    if not markup or not markup.strip():
        return ""
    if "<" not in markup:
        return _SPACE.sub(" ", html.unescape(markup)).strip()
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except Exception:
        return _SPACE.sub(" ", html.unescape(re.sub(r"<[^>]*>", " ", markup))).strip()
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return _SPACE.sub(" ", root.text_content()).strip()
