"""Where a teaser's text starts: after the headline repeated at the top, a byline or dateline,
and labels or headings above the story; and where it must end, so that no sentence runs from one
block (paragraph, heading, list item) into the next."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from digest.teaser.sentences import SENTENCE_END
from digest.teaser.words import CJK, weight, worded

# Marks after which a block's sentence goes on in the next block.
_GOES_ON = ":;,-–—/(&+、，：；"
_OPENERS = "\"'“‘«„¿¡([ "
# A block of at most this many half-words that opens the text and ends without a full stop is a
# label or a subheading, not a standfirst.
_LABEL_HALF_WORDS = 6
# Words this long or longer decide whether a block is written in title case.
_TITLE_CASE_LETTERS = 4
_WORD = re.compile(r"[^\W\d_]+")
# The first word after a title, past spaces and commas (and past any clause mark after a title
# cut from the text; a colon or dash after a whole title marks a heading): in lower case, the
# title's sentence goes on.
_NEXT_WORD = re.compile(r"[\s,;]*([^\W\d_]+)")
_NEXT_WORD_AFTER_CUT = re.compile(r"[\s,;:—–-]*([^\W\d_]+)")
# A line that gives a value under a label of a few words: "Einsatzort: Weiz", "Time: 21:42 UTC",
# "Invité : Laurent Dormond"; not a link under a label ("Buy the book: https://…").
_FIELD = re.compile(r"[^\W\d_][\w'’()/.-]*(?:\s+[\w'’()/.-]+){0,2}\s?:\s+(?!https?://|www\.)\S")
# A line that ends by announcing a quotation: "In his new book, Steve Yegge says".
_INTRODUCES_QUOTE = re.compile(
    r"\b(?:says|said|writes|wrote|notes|noted|explains|explained|asks|asked|adds|added|argues"
    r"|argued|tweeted|posted|puts it|reports|reported)$",
    re.IGNORECASE,
)


def story_blocks(body: str, joined: str, blocks: list[str], min_half_words: int) -> str:
    """`body` (the end of `joined`, the `blocks` joined by spaces) up to its first block that ends
    without a full stop after the story's sentences began, so no sentence runs from one block
    into the next.

    Such a block is a standfirst, a list item, a heading or a caption. When sentences come
    before it, the text ends before it (after it, when they end with a colon that announces it).
    When it opens the text, labelled lines ("Einsatzort: Weiz") with no prose after them are a
    record, which is the teaser; otherwise it is skipped if it is a label or a heading
    ("Analysis", "Family — Amaranthaceae", "HOUGHTON MIFFLIN HARCOURT", a book's title in title
    case) with text after it; otherwise it is a standfirst, which stands alone when it holds
    `min_half_words`, and is ended with a full stop and followed by the story's sentences when it
    is shorter.
    """
    offset = len(joined) - len(body)
    if offset < 0 or joined[offset:] != body:
        return body
    pieces: list[str] = []
    standfirst = ""
    position = -offset  # where the current block starts in `body`
    for index, block in enumerate(blocks):
        block_start, block_end = position, position + len(block)
        position = block_end + 1
        if block_end <= 0:
            continue
        text = body[max(block_start, 0) : block_end]
        following = blocks[index + 1] if index + 1 < len(blocks) else ""
        if not _is_unfinished(block, following):
            pieces.append(text)
            continue
        if pieces == [f"{standfirst}."]:
            return standfirst  # nothing of the story's prose follows it
        if pieces and SENTENCE_END.search(pieces[-1]):
            return " ".join(pieces)
        if pieces:  # after "This week:" the first item belongs to the sentence that announced it
            return " ".join([*pieces, text])
        if not worded(body[block_end:]):
            return text
        if _FIELD.match(text) and not any(_is_prose(later) for later in blocks[index + 1 :]):
            return _record([text, *blocks[index + 1 :]])
        if _is_heading(text):
            continue
        if weight(text) >= min_half_words:
            return text
        standfirst = text
        pieces.append(text + (":" if _INTRODUCES_QUOTE.search(text) else "."))
    return " ".join(pieces) or body


def _is_prose(block: str) -> bool:
    return bool(SENTENCE_END.search(block)) and not _FIELD.match(block)


def _record(lines: list[str]) -> str:
    """The labelled lines that open `lines` (a call-out's "Einsatzort: …", "Alarmierung: …", an
    earthquake's "Time: …", "Depth: …"), each ended as a sentence: a record with no prose to
    tell it, which is then its own teaser."""
    fields = list(itertools.takewhile(_FIELD.match, lines))
    return " ".join(line if SENTENCE_END.search(line) else f"{line}." for line in fields)


def _is_unfinished(block: str, following: str) -> bool:
    """Whether `block` ends without a full stop before a block that starts a new sentence (not a
    line that goes on in lower case, nor text after a colon or comma)."""
    if not following or SENTENCE_END.search(block) or block[-1] in _GOES_ON:
        return False
    first = following.lstrip(_OPENERS)[:1]
    return bool(first) and not first.islower()


def _is_heading(block: str) -> bool:
    """Whether a block without a full stop is a label or a heading rather than a standfirst: a
    few words, capitals only, or title case (every word of four letters or more capitalized)."""
    if weight(block) <= _LABEL_HALF_WORDS:
        return True
    words = _WORD.findall(block)
    if words and all(word.isupper() for word in words if len(word) > 1):
        return True
    long_words = [word for word in words if len(word) >= _TITLE_CASE_LETTERS]
    return len(long_words) >= 2 and all(word[0].isupper() for word in long_words)


# --- title and lead-in ------------------------------------------------------------------------


def drop_title(text: str, title: str, blocks: Sequence[str] = ()) -> str:
    """`text` without `title` at its start, compared on letters and digits only (so case, quotes and
    spacing do not matter), also when a page glued them: "…borderThailand and…".

    A title that opens the text's first sentence, which then goes on in lower case, stays (the
    teaser would start mid-sentence): a title that is the sentence's subject ("F37" in "F37 is a
    new foundry…") or one made from the text and cut ("…counted eleven herons…"). A title that is
    a whole block of `blocks` (when `text` is their join) is a heading, dropped whatever follows.
    """
    wanted = [c.casefold() for c in title if c.isalnum()]
    if not wanted:
        return text
    matched = 0
    end = 0
    for index, char in enumerate(text):
        if not char.isalnum():
            continue
        if char.casefold() != wanted[matched]:
            return text
        matched += 1
        if matched == len(wanted):
            end = index + 1
            break
    else:
        return text
    if end < len(text) and not _title_ends_here(text[end - 1], text[end]):
        return text
    rest = text[end:]
    if _goes_on(text[:end], rest, title.endswith("…")) and not _ends_block(end, blocks):
        return text
    if text[:end].count('"') % 2 or text[:end].count("“") > text[:end].count("”"):
        rest = rest.lstrip(' "”')
    return rest.lstrip(" .,:;|—–-·•”’»!?")


def _goes_on(head: str, rest: str, cut: bool) -> bool:
    """Whether the sentence that `head` (a title) opens goes on in `rest`: its next word is in lower
    case, from a writer who uses capitals (a title in lower case tells nothing of sentences)."""
    following = (_NEXT_WORD_AFTER_CUT if cut else _NEXT_WORD).match(rest)
    return bool(following and following[1].islower()) and any(c.isupper() for c in head)


def _ends_block(end: int, blocks: Sequence[str]) -> bool:
    """Whether `end` is where one of `blocks` ends in their join by spaces."""
    position = -1
    for block in blocks:
        position += len(block) + 1
        if position >= end:
            return position == end
    return False


def _title_ends_here(last: str, following: str) -> bool:
    """Whether a title match ending at `last` is a whole one: not "India" inside "Indiana"."""
    if not following.isalnum():
        return True
    if CJK.match(last) or CJK.match(following):
        return True
    return following.isupper()
