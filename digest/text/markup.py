"""From markup to blocks: where a paragraph, heading, list item or line starts and ends, and
which elements are never text (scripts, page furniture, a picture's caption)."""

from __future__ import annotations

import html
import itertools
import re

from lxml import etree
from lxml import html as lxml_html

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]{0,2000})?/?>|<!--")
# What a regex can safely drop when the parser cannot help: comments and script-like elements,
# each up to its end or, when never closed, the end of the text.
_HIDDEN = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|noscript|template)\b.*?(?:</\1\s*>|$)", re.S | re.I
)
# libxml2 ignores whatever follows `</html>`, where browsers still show it.
_DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.I)
_ESCAPED_TAG = re.compile(r"&lt;/?[A-Za-z][A-Za-z0-9]*(?:\s|/?&gt;)")

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption dd details dialog div dl dt fieldset "  # noqa: SIM905
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul".split()
)
_NEVER_TEXT = ("head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object")
# Page furniture that is never part of an article's prose (captions carry credits, not the story).
_NOT_ARTICLE = ("nav", "aside", "footer", "form", "button", "figcaption", "select", "label")
# A caption outside `<figcaption>`: an element whose class names a caption or credit, of at most
# this many words, holding a picture or within this many levels below a box that holds one.
_CAPTION_CLASS = re.compile(r"caption|credit", re.I)
_CAPTION_WORDS = 60
_CAPTION_LEVELS = 2
_PICTURES = ("img", "picture", "video")


def is_markup(text: str) -> bool:
    """Whether `text` is HTML (also HTML escaped once too often) rather than plain text."""
    return bool(_TAG.search(text) or _ESCAPED_TAG.search(text))


def fold_space(text: str) -> str:
    """One space between words, none at the ends."""
    return _SPACE.sub(" ", text).strip()


def pieces(markup: str, article: bool) -> list[str]:
    """The text of `markup` (HTML, HTML escaped too often, or plain lines) cut where its blocks
    end; without page furniture and picture captions when it is an `article`'s."""
    if not _TAG.search(markup):
        markup = _unescaped_markup(markup)
    return _html_pieces(markup, article) if _TAG.search(markup) else markup.splitlines()


def _unescaped_markup(text: str) -> str:
    """HTML that a feed escaped once or more too often (`&lt;p&gt;`, `&amp;lt;p&amp;gt;`) as
    HTML; any other text as it is."""
    escaped = text
    for _ in range(4):
        if _ESCAPED_TAG.search(escaped):
            return html.unescape(escaped)
        unwrapped = escaped.replace("&amp;", "&")
        if unwrapped == escaped:
            break
        escaped = unwrapped
    return text


def _html_pieces(markup: str, article: bool) -> list[str]:
    """Text split at block boundaries, so "<p>a</p><p>b</p>" never glues into "ab"."""
    parser = lxml_html.HTMLParser(huge_tree=True)
    try:
        root = lxml_html.document_fromstring(_DOCUMENT_END.sub("", markup), parser=parser)
    except (etree.ParserError, ValueError):
        return _strip_tags(markup)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        # libxml2 drops what is nested deeper than 2,048 levels (unclosed tags pile up).
        return _strip_tags(markup)
    dropped = _NEVER_TEXT + _NOT_ARTICLE if article else _NEVER_TEXT
    etree.strip_elements(
        root, *dropped, etree.Comment, etree.ProcessingInstruction, with_tail=False
    )
    if article:
        _drop_captions(root)
    _label_definitions(root)
    # A line break in the source is a space, as a browser shows it; only elements make blocks.
    parts: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        block = isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n")
            parts.append(_SPACE.sub(" ", element.text or ""))
        else:
            if block:
                parts.append("\n")
            parts.append(_SPACE.sub(" ", element.tail or ""))
    return "".join(parts).split("\n")


def _drop_captions(root: lxml_html.HtmlElement) -> None:
    """Drop the captions and credits of pictures (WordPress's `wp-caption-text`, a `photo-credit`
    under the picture): the picture's words, not the story's. One is a short element whose class
    says so, holding a picture or next to one."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or not _CAPTION_CLASS.search(element.get("class", "")):
            continue
        near = [element, *itertools.islice(element.iterancestors(), _CAPTION_LEVELS)]
        if len(element.text_content().split()) <= _CAPTION_WORDS and any(
            next(box.iter(*_PICTURES), None) is not None for box in near
        ):
            element.drop_tree()


def _label_definitions(root: lxml_html.HtmlElement) -> None:
    """Put each term of a definition list on one line with its definitions ("Time: 21:42 UTC;
    13:42 at epicenter"), so no value is parted from its label."""
    for term in list(root.iter("dt")):
        definitions = []
        following = term.getnext()
        while following is not None and following.tag == "dd":
            definitions.append(following)
            following = following.getnext()
        labelled = term.text_content().rstrip().endswith(":")
        for index, definition in enumerate(definitions):
            _append_text(term, "; " if index else " " if labelled else ": ")
            definition.tag = "span"
            definition.tail = None
            term.append(definition)


def _append_text(element: lxml_html.HtmlElement, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _strip_tags(markup: str) -> list[str]:
    """Text pieces of markup that lxml cannot parse (or parses only in part)."""
    return _TAG.sub("\n", _HIDDEN.sub("\n", markup)).split("\n")
