"""Words as a teaser's budget counts them, in half-words: 2 for a spaced word, 1 for a CJK
character (those scripts put no spaces between words), and cutting text to a budget."""

from __future__ import annotations

import re

ELLIPSIS = "…"
_TOKEN = re.compile(r"\S+")
# Scripts written without spaces between words: kana and CJK ideographs (Hangul uses spaces).
_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK = re.compile(f"[{_IDEOGRAPHS}]")
# Ideographs plus CJK punctuation and full-width forms: no space goes between two of these.
_CJK_WIDE = re.compile(f"[{_IDEOGRAPHS}\u3000-\u303f\uff00-\uffef]")
# A word's letters and digits, or one CJK character (the unit those scripts' words are made of).
_WORD_PARTS = re.compile(f"[{_IDEOGRAPHS}]|[^\\W{_IDEOGRAPHS}]+")
_TRAILING_PUNCT = re.compile(r"[\s,;:\-–—/(\[{“‘\"'«„&+、，：；]+$")
_CHARS_PER_HALF_WORD = 12


def token_weight(token: str) -> int:
    """A token's size in half-words: 2 for a spaced word, 1 per CJK character."""
    if not CJK.search(token):
        return 2
    return max(1, sum(1 if CJK.match(part) else 2 for part in _WORD_PARTS.findall(token)))


def weight(text: str) -> int:
    """The size of `text` in half-words."""
    return sum(token_weight(token) for token in text.split())


def word_parts(text: str) -> list[str]:
    """The words of `text` in lower case, letters and digits only, a CJK character each."""
    return _WORD_PARTS.findall(text.lower())


def worded(text: str) -> str:
    """`text` if it has a letter or digit, else "": marks and symbols alone are no teaser."""
    return text if any(char.isalnum() for char in text) else ""


def join(sentences: list[str]) -> str:
    """Sentences joined as written: with a space, except between CJK sentences."""
    text = sentences[0]
    for sentence in sentences[1:]:
        spaceless = _CJK_WIDE.match(text[-1]) and _CJK_WIDE.match(sentence[0])
        text += ("" if spaceless else " ") + sentence
    return text


def opening(text: str, limit: int) -> tuple[str, bool]:
    """The start of `text` within `limit` half-words (and a proportionate number of characters),
    and whether that is less than all of it.

    Only this part is segmented, so a teaser costs the same for a 500-word and a 50,000-word
    story."""
    max_chars = _CHARS_PER_HALF_WORD * limit
    used = 0
    for token in _TOKEN.finditer(text):
        used += token_weight(token.group(0))
        if used > limit or token.end() > max_chars:
            end = min(token.end(), max_chars)
            return text[:end], end < len(text)
    return text, False


def cut(sentence: str, budget: int) -> str:
    """The longest start of `sentence` within `budget` half-words, cut between words, plus "…".

    Marks before its first word ("— Council…") are left out when they leave that word no room."""
    tokens = sentence.split()
    first_word = next((i for i, token in enumerate(tokens) if worded(token)), 0)
    if sum(token_weight(token) for token in tokens[: first_word + 1]) > budget:
        tokens = tokens[first_word:]
    kept: list[str] = []
    used = 0
    for token in tokens:
        size = token_weight(token)
        if used + size <= budget:
            kept.append(token)
            used += size
            continue
        if CJK.search(token):
            kept.append(_cut_cjk_token(token, budget - used))
        break
    text = " ".join(kept)
    trimmed = _TRAILING_PUNCT.sub("", text)
    return (trimmed or text or sentence.split()[0]) + ELLIPSIS


def _cut_cjk_token(token: str, budget: int) -> str:
    """The start of a spaceless CJK run within `budget` half-words, cut between characters."""
    end = 0
    for part in _WORD_PARTS.finditer(token):
        budget -= 1 if CJK.match(part.group(0)) else 2
        if budget < 0:
            break
        end = part.end()
    return token[:end]
