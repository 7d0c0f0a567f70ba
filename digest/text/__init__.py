"""Turning source HTML (or text) into clean plain text.

Feeds and pages hand us anything from tidy paragraphs to double-escaped markup with navigation, ads
and photo credits mixed in. `html_to_text` gives the plain words; `clean_article_text` also drops
that boilerplate so a teaser starts with the story, not with "Skip to content". How markup becomes
blocks is `markup`'s job; what is boilerplate, `boilerplate`'s.
"""

from __future__ import annotations

import html
import re

from digest.text.boilerplate import is_boilerplate_block, strip_boilerplate_segments, strip_lead_in
from digest.text.markup import fold_space, is_markup, pieces

__all__ = [
    "article_blocks",
    "clean_article_text",
    "fold_space",
    "html_to_text",
    "is_markup",
    "strip_lead_in",
    "without_controls",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# Invisible characters that would glue or split words; ZWJ/ZWNJ stay (emoji sequences, Persian).
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def html_to_text(markup: str) -> str:
    """Plain text of HTML or text: entities decoded, tags dropped, blocks apart, spaces folded."""
    return " ".join(_blocks(markup, article=False))


def clean_article_text(markup: str) -> str:
    """`html_to_text` without boilerplate (navigation, ads, credits, "Read more", bylines).

    A cut-off excerpt ("…their [...]") keeps a single trailing "…", so the teaser can tell that the
    last sentence is unfinished.
    """
    return " ".join(article_blocks(markup))


def article_blocks(markup: str) -> list[str]:
    """The blocks (paragraphs, list items, headings, lines) of `clean_article_text`, in order."""
    kept: list[str] = []
    for block in _blocks(markup, article=True):
        block = strip_boilerplate_segments(block)
        if block and not is_boilerplate_block(block) and (not kept or kept[-1] != block):
            kept.append(block)
    return kept


def _decode_entities(text: str) -> str:
    """Decode entities until none are left, so double-escaped `&amp;nbsp;` ends as a space.

    Only complete entities (with `;`) are touched: "AT&T" or "R&D" stay as written.
    """
    for _ in range(4):
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            break
        text = decoded
    return text


def without_controls(text: str) -> str:
    """`text` without the C0 control characters (tab and line breaks kept) and noncharacters that
    no page means to show and that lxml refuses to store in a tree."""
    return _CONTROL.sub("", text)


def _blocks(markup: str, article: bool) -> list[str]:
    """The text of each block (paragraph, heading, list item, line) with white space folded;
    without page furniture and picture captions when it is an `article`'s."""
    if not markup or not markup.strip():
        return []
    markup = _INVISIBLE.sub("", without_controls(markup))
    return [
        block
        for block in (_repaired(fold_space(_decode_entities(p))) for p in pieces(markup, article))
        if block
    ]


# A full stop, question or exclamation mark glued to the next sentence ("in April.Previously",
# "automated trading.The Financial…"): a word of two letters or more (not part of a dotted name
# such as U.S.Army), the mark, and a word that commonly opens a sentence, so that names in code
# (Game.Player, io.Reader, Mail.Ru) stay as written.
_OPENING_WORDS = (
    "The|A|An|This|That|These|Those|It|Its|He|She|They|We|I|You|His|Her|Their|Our|There|Here"
    "|But|And|So|Yet|However|Previously|Meanwhile|Also|Still|Later|Earlier|Instead|Finally|In|On"
    "|At|For|With|From|As|After|Before|When|While|If|Today|Yesterday|Last|Next|One|Two|Three"
    "|Der|Die|Das|Ein|Eine|Er|Es|Le|Les|Il|Elle|Ils|El|Los|Las|Lo|Gli"
)
_GLUED_STOP = re.compile(
    rf"(?<![\w.@/%&:$#(\[])([^\W\d_]+[a-zß-ÿ][.!?])((?:{_OPENING_WORDS})\b)(?![.\w(])"
)
# An apostrophe a wrong character set turned into "?" ("un?esplosione", "don?t", "l?Italia"): a
# "?" between two letters, in a word that is not part of an address or a query string. Before a
# capital it must follow an elided word (l', d', qu', dell'…), or it may end a question.
_LOST_APOSTROPHE = re.compile(
    r"(?<![\w/=&?.%-])([^\W\d_]+)\?([^\W\d_]+)(?=[\s,;:.!)”’\"]|$)(?![.?]\w)"
)
_ELIDED = re.compile(r"(?i:[cdjlmnst]|\w*qu|\w*ll|un|quest|aujourd)")


def _repaired(text: str) -> str:
    """`text` with a space after a full stop that lost it and apostrophes that became "?"."""
    if "?" in text:
        text = _LOST_APOSTROPHE.sub(_apostrophe, text)
    return _GLUED_STOP.sub(r"\1 \2", text)


def _apostrophe(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if after[0].isupper() and not _ELIDED.fullmatch(before):
        return match.group(0)
    return f"{before}’{after}"
