"""Teasers: the first whole sentences of a story that fit a word budget.

pysbd splits sentences well but is slow and can turn quadratic on long inputs, so it only ever
sees a window of a couple of thousand characters, and teasers stop asking for sentences once the
budget is spent. A small post-pass fixes the mistakes pysbd was measured to make (URLs with "?",
"Pres.", "Sr.", colons, closing single quotes and guillemets, CJK full stops).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

import pysbd
from pysbd.languages import LANGUAGE_CODES

from digest.errors import BuildError
from digest.models import Story
from digest.text import article_blocks, clean_article_text, fold_space, is_markup, strip_lead_in

_WINDOW = 2_000
_MAX_WINDOW = 8_000
_SLACK_WORDS = 20
_CHARS_PER_HALF_WORD = 12
_TOKEN = re.compile(r"\S+")
_ELLIPSIS = "…"

# Scripts written without spaces between words: kana and CJK ideographs (Hangul uses spaces).
_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK = re.compile(f"[{_IDEOGRAPHS}]")
# Ideographs plus CJK punctuation and full-width forms: no space goes between two of these.
_CJK_WIDE = re.compile(f"[{_IDEOGRAPHS}\u3000-\u303f\uff00-\uffef]")
_CJK_TOKEN_PARTS = re.compile(f"(?P<cjk>[{_IDEOGRAPHS}])|(?P<word>[^\\W{_IDEOGRAPHS}]+)")

_URL_TRAILER = ".,;:!?)]}\"'”’»"
# Titles that precede a name: a segment ending in one of these never ends a sentence.
_TITLES = re.compile(
    r"(?:^|[\s(\[“\"‘'])(?:Mr|Mrs|Ms|Mx|Messrs|Dr|Drs|Dra|Prof|Pres|Sen|Sens|Rep|Reps|Gov|Gen|Lt|Col|"
    r"Capt|Cmdr|Adm|Maj|Sgt|Cpl|Pvt|Rev|Hon|Amb|Atty|Supt|Insp|Mme|Mmes|Mlle|Mgr|Pr|Sr|Sra|Srta|Sres|"
    r"Ud|Uds|Hr|Fr|Fam)\.$"
)
# Abbreviations that are followed by a number: "No. 5", "approx. 3", "Fig. 2".
_BEFORE_NUMBER = re.compile(r"(?:^|[\s(\[])(?:No|Nos|Nr|Vol|Fig|Art|Abs|approx|ca|vs|pp?)\.$")
# Boundaries pysbd misses: after a closing single quote or guillemet, and after CJK full stops.
_MISSED_BOUNDARY = re.compile(
    r"(?<=[.!?…])[’']\s+(?=[“\"‘«A-ZÀ-Þ])"
    r"|(?<=[.!?…])\s*»\s+(?=[«“\"A-ZÀ-Þ])"
    r"|(?<=[。！？])[」』”’）)]*(?=\S)"
)
_REGEX_BOUNDARY = re.compile(
    r"(?<=[.!?…])[\"”’»)\]]*\s+(?=[\"“‘«(\[¿¡]?[A-ZÀ-Þ0-9])|(?<=[。！？])[」』”’）)]*"
)
# A sentence's last characters: a stop, then closing quotes or brackets (German closes with “ ‘ «,
# French puts a space before »).
_SENTENCE_END = re.compile(r"[.!?…。！？](?:\s?[\"'”’“‘»«)\]」』）])*$")
# A day written as an ordinal number, as German and Nordic languages write dates ("4. Mai").
_ORDINAL_DAY = re.compile(r"(?:^|[\s(])\d{1,2}\.$")
_MONTH = re.compile(
    r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
    r"|Dezember)\b"
)
_GUILLEMETS = str.maketrans("«»", "‹›")
_GUILLEMET_AFTER = re.compile(r"\s*[«»]\s+(?=\S)")
_LIST_NUMBER = re.compile(r"\d{1,3}[.)]\s+(?=\S)")
_CUT_END = re.compile(r"\s*(?:…|\.\.\.|\. \. \.)$")
# Marks after which a block's sentence goes on in the next block.
_GOES_ON = ":;,-–—/(&+、，：；"
_OPENERS = "\"'“‘«„¿¡([ "
# A block of at most this many half-words that opens the text and ends without a full stop is a
# label or a subheading, not a standfirst.
_LABEL_HALF_WORDS = 6
_TRAILING_PUNCT = re.compile(r"[\s,;:\-–—/(\[{“‘\"'«„&+、，：；]+$")


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of plain text, in order, stripped."""
    return list(_iter_sentences(fold_space(text), language))


def make_teaser(text: str, max_words: int, title: str = "", language: str = "en") -> str:
    """Whole sentences from the start within `max_words`; a cut first sentence ends with "…".

    `text` may be HTML. A CJK character counts as half a word, since those scripts put no spaces
    between words.
    """
    if max_words < 1:
        raise BuildError(f"teaser word budget must be at least 1 (got {max_words})")
    blocks = article_blocks(text)
    if not blocks:
        return ""
    cleaned = " ".join(blocks)
    # What is left after the title or a lead-in must still say something ("Title!" leaves "!").
    body = _worded(_drop_title(cleaned, clean_article_text(title))) or cleaned
    body = _worded(strip_lead_in(body)) or cleaned
    if is_markup(text):
        body = _before_unfinished_block(body, cleaned, blocks)
    cut_marker = _CUT_END.search(body)
    was_cut = cut_marker is not None
    if cut_marker:
        body = body[: cut_marker.start()].rstrip() or body
    budget = 2 * max_words
    body, truncated = _opening(body, budget)
    chosen: list[str] = []
    used = 0
    sentences = _iter_sentences(body, language)
    upcoming = next(sentences, None)
    first = upcoming or body
    while upcoming is not None:
        sentence, upcoming = upcoming, next(sentences, None)
        if upcoming is None and (truncated or (was_cut and not _SENTENCE_END.search(sentence))):
            break  # the text stops mid-sentence here
        weight = _weight(sentence)
        if used + weight > budget:
            break
        chosen.append(sentence)
        used += weight
    teaser = _join(chosen) if chosen else _cut(first, budget)
    if _worded(teaser) or not _worded(body):
        return teaser
    # The sentences that fit are marks alone ("…!" before an unfinished sentence): cut the text.
    return _cut(body, budget)


def teaser_for(story: Story, max_words: int, language: str = "en") -> str:
    """The editor's teaser (Story.teaser, whitespace-folded, otherwise untouched) when set;
    else make_teaser(story.text, ...)."""
    if story.teaser.strip():
        return fold_space(story.teaser)
    return make_teaser(story.text, max_words, title=story.title, language=language)


def _join(sentences: list[str]) -> str:
    """Sentences joined as written: with a space, except between CJK sentences."""
    text = sentences[0]
    for sentence in sentences[1:]:
        spaceless = _CJK_WIDE.match(text[-1]) and _CJK_WIDE.match(sentence[0])
        text += ("" if spaceless else " ") + sentence
    return text


# --- words ------------------------------------------------------------------------------------


def _token_weight(token: str) -> int:
    """A token's size in half-words: 2 for a spaced word, 1 per CJK character."""
    if not _CJK.search(token):
        return 2
    return max(
        1, sum(1 if part.lastgroup == "cjk" else 2 for part in _CJK_TOKEN_PARTS.finditer(token))
    )


def _weight(text: str) -> int:
    return sum(_token_weight(token) for token in text.split())


def _opening(text: str, budget: int) -> tuple[str, bool]:
    """The start of `text` that can hold the teaser, and whether that is less than all of it.

    Only this part is segmented, so a teaser costs the same for a 500-word and a 50,000-word
    story: a whole sentence within the budget always ends before it.
    """
    limit = budget + 2 * _SLACK_WORDS
    max_chars = _CHARS_PER_HALF_WORD * limit
    used = 0
    for token in _TOKEN.finditer(text):
        used += _token_weight(token.group(0))
        if used > limit or token.end() > max_chars:
            end = min(token.end(), max_chars)
            return text[:end], end < len(text)
    return text, False


def _worded(text: str) -> str:
    """`text` if it has a letter or digit, else "": marks and symbols alone are no teaser."""
    return text if any(char.isalnum() for char in text) else ""


def _cut(sentence: str, budget: int) -> str:
    """The longest start of `sentence` within `budget` half-words, cut between words, plus "…".

    Marks before its first word ("— Council…") are left out when they leave that word no room."""
    tokens = sentence.split()
    first_word = next((i for i, token in enumerate(tokens) if _worded(token)), 0)
    if sum(_token_weight(token) for token in tokens[: first_word + 1]) > budget:
        tokens = tokens[first_word:]
    kept: list[str] = []
    used = 0
    for token in tokens:
        weight = _token_weight(token)
        if used + weight <= budget:
            kept.append(token)
            used += weight
            continue
        if _CJK.search(token):
            kept.append(_cut_cjk_token(token, budget - used))
        break
    text = " ".join(kept)
    trimmed = _TRAILING_PUNCT.sub("", text)
    return (trimmed or text or sentence.split()[0]) + _ELLIPSIS


def _cut_cjk_token(token: str, budget: int) -> str:
    """The start of a spaceless CJK run within `budget` half-words, cut between characters."""
    end = 0
    for part in _CJK_TOKEN_PARTS.finditer(token):
        budget -= 1 if part.lastgroup == "cjk" else 2
        if budget < 0:
            break
        end = part.end()
    return token[:end]


# --- blocks -------------------------------------------------------------------------------------


def _before_unfinished_block(body: str, joined: str, blocks: list[str]) -> str:
    """`body` (the end of `joined`, the `blocks` joined by spaces) up to its first block that ends
    without a full stop, so no sentence runs from one block into the next.

    Such a block is a standfirst, a list item, a subheading or a caption. When sentences come
    before it, the teaser ends before it (after it, when they end with a colon that announces
    it); when it opens the text, it is the teaser on its own, unless it is a label of a few words
    ("Analysis", "Situación crítica") with text after it.
    """
    offset = len(joined) - len(body)
    if offset < 0 or joined[offset:] != body:
        return body
    start = 0  # where the teaser's text starts in `body`
    position = -offset  # where the current block starts in `body`
    for index, block in enumerate(blocks):
        block_start, block_end = position, position + len(block)
        position = block_end + 1
        following = blocks[index + 1] if index + 1 < len(blocks) else ""
        if block_end <= start or not _is_unfinished(block, following):
            continue
        if block_start > start:
            before = body[start : block_start - 1]
            # after "This week:" the first item belongs to the sentence that announced it
            return before if _SENTENCE_END.search(before) else body[start:block_end]
        if _weight(body[start:block_end]) <= _LABEL_HALF_WORDS and _worded(body[block_end:]):
            start = block_end + 1
            continue
        return body[start:block_end]
    return body[start:] or body


def _is_unfinished(block: str, following: str) -> bool:
    """Whether `block` ends without a full stop before a block that starts a new sentence (not a
    line that goes on in lower case, nor text after a colon or comma)."""
    if not following or _SENTENCE_END.search(block) or block[-1] in _GOES_ON:
        return False
    first = following.lstrip(_OPENERS)[:1]
    return bool(first) and not first.islower()


# --- title and lead-in ------------------------------------------------------------------------


def _drop_title(text: str, title: str) -> str:
    """`text` without `title` at its start, compared on letters and digits only (so case, quotes and
    spacing do not matter), also when a page glued them: "…borderThailand and…"."""
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
    if text[:end].count('"') % 2 or text[:end].count("“") > text[:end].count("”"):
        rest = rest.lstrip(' "”')
    return rest.lstrip(" .,:;|—–-·•”’»!?")


def _title_ends_here(last: str, following: str) -> bool:
    """Whether a title match ending at `last` is a whole one: not "India" inside "Indiana"."""
    if not following.isalnum():
        return True
    if _CJK.match(last) or _CJK.match(following):
        return True
    return following.isupper()


# --- sentences --------------------------------------------------------------------------------


def _iter_sentences(text: str, language: str) -> Iterator[str]:
    """Sentences of folded text, segmenting one window at a time so the cost stays linear."""
    start = 0
    size = _WINDOW
    while start < len(text):
        end = _word_end(text, start + size)
        window = text[start:end]
        bounds = _boundaries(window, language)
        at_end = end >= len(text)
        if not at_end and not bounds and size < _MAX_WINDOW:
            size *= 2  # one sentence longer than the window: look further before deciding
            continue
        # Unless the text ends here, the last piece may run on past the window: segment it again.
        cuts = [0, *bounds, len(window)] if at_end or not bounds else [0, *bounds]
        for first, last in pairwise(cuts):
            sentence = window[first:last].strip()
            if sentence:
                yield sentence
        start += cuts[-1]
        size = _WINDOW


def _word_end(text: str, position: int) -> int:
    """`position` moved on to the next space, so a window does not end mid-word (spaceless
    scripts such as Chinese are cut where they are)."""
    if position >= len(text):
        return len(text)
    space = text.find(" ", position, position + 200)
    return position if space == -1 else space


def _boundaries(text: str, language: str) -> list[int]:
    """Offsets in `text` where a new sentence starts (0 and len(text) excluded)."""
    # pysbd pairs guillemets as quotes whichever way they point, so German »…« followed by one
    # more » (a cut excerpt) hides every sentence end in between; it reads ‹ › as plain marks.
    bounds = _pysbd_boundaries(text.translate(_GUILLEMETS), language)
    if bounds is None:
        bounds = [m.end() for m in _REGEX_BOUNDARY.finditer(text)]
    bounds = sorted(
        {
            *(_past_closing_guillemet(text, _past_list_number(text, b)) for b in bounds),
            *(m.end() for m in _MISSED_BOUNDARY.finditer(text)),
        }
    )
    protected = [
        (m.start(), m.start() + len(m.group(0).rstrip(_URL_TRAILER)))
        for m in _TOKEN.finditer(text)
        if _is_address(m.group(0))
    ]
    kept: list[int] = []
    previous = 0
    for index, bound in enumerate(bounds):
        if not 0 < bound < len(text):
            continue
        if text[bound - 1] == "." and text[bound].isalnum():
            continue  # no space after the stop: an abbreviation ("21 ม.ค.2561", "U.S.Army")
        following = bounds[index + 1] if index + 1 < len(bounds) else len(text)
        if _wrong_boundary(
            text[previous:bound].rstrip(), text[bound:following].strip(), bound, protected
        ):
            continue
        kept.append(bound)
        previous = bound
    return kept


def _is_address(token: str) -> bool:
    """Whether a token is a URL or an email address, whose dots and "?" end no sentence."""
    return "://" in token or token.lower().startswith("www.") or "@" in token.strip("@")


def _past_closing_guillemet(text: str, bound: int) -> int:
    """A boundary moved past a guillemet that closes a quote the sentence before it opened
    (German »Ich komme.« Dann, French « Je viens. » Puis), not one that opens the next."""
    mark = _GUILLEMET_AFTER.match(text, bound)
    if mark and sum(text.count(g, 0, bound) for g in "«»") % 2:
        return mark.end()
    return bound


def _past_list_number(text: str, bound: int) -> int:
    """pysbd takes "case 0. Dr. Smith…" for a numbered list and splits before "0."; move such a
    boundary to after the number, where the sentence really ends."""
    number = _LIST_NUMBER.match(text, bound)
    if number and text[:bound].rstrip()[-1:].isalnum():
        return number.end()
    return bound


def _wrong_boundary(before: str, after: str, bound: int, protected: list[tuple[int, int]]) -> bool:
    if any(start < bound < end for start, end in protected):
        return True
    if not _SENTENCE_END.search(before) or _TITLES.search(before):
        return True
    if not any(c.isalnum() for c in after):
        return True
    if _ORDINAL_DAY.search(before) and (after[:1].islower() or _MONTH.match(after)):
        return True  # "am 4. Mai", "den 3. oktober": a date, not a sentence end
    return bool(_BEFORE_NUMBER.search(before)) and after[:1].isdigit()


def _pysbd_boundaries(text: str, language: str) -> list[int] | None:
    """pysbd's sentence starts in `text` (None if it fails); unknown languages get English rules."""
    code = language.split("-")[0].split("_")[0].lower()
    try:
        segments = pysbd.Segmenter(
            language=code if code in LANGUAGE_CODES else "en", clean=False
        ).segment(text)
    except Exception:
        return None
    bounds: list[int] = []
    cursor = 0
    for segment in segments:
        piece = segment.strip()
        if not piece:
            continue
        found = text.find(piece, cursor)
        if found == -1:
            return None
        if found:
            bounds.append(found)
        cursor = found + len(piece)
    return bounds
