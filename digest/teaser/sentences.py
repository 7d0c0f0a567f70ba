"""Sentence splitting: pysbd, on a window of a couple of thousand characters at a time, plus a
small post-pass for the mistakes pysbd was measured to make (URLs with "?", "Pres.", "Sr.",
colons, closing single quotes and guillemets, CJK full stops).

pysbd splits sentences well but is slow and can turn quadratic on long inputs, so it only ever
sees a window, and callers stop asking for sentences once they have what they need.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

from pysbd.languages import LANGUAGE_CODES

from digest.teaser.segmenter import Segmenter
from digest.text import fold_space

_WINDOW = 600
_MAX_WINDOW = 8_000
_TOKEN = re.compile(r"\S+")
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
SENTENCE_END = re.compile(r"[.!?…。！？](?:\s?[\"'”’“‘»«)\]」』）])*$")
# A day written as an ordinal number, as German and Nordic languages write dates ("4. Mai").
_ORDINAL_DAY = re.compile(r"(?:^|[\s(])\d{1,2}\.$")
_MONTH = re.compile(
    r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
    r"|Dezember)\b"
)
_GUILLEMETS = str.maketrans("«»", "‹›")
_GUILLEMET_AFTER = re.compile(r"\s*[«»]\s+(?=\S)")
_LIST_NUMBER = re.compile(r"\d{1,3}[.)]\s+(?=\S)")


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of plain text, in order, stripped."""
    return list(iter_sentences(fold_space(text), language))


# --- sentences --------------------------------------------------------------------------------


def iter_sentences(text: str, language: str) -> Iterator[str]:
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
    if not SENTENCE_END.search(before) or _TITLES.search(before):
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
        segments = Segmenter(
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
