"""Teasers: whole sentences from a story's opening that carry what the story is about.

The opening is read from the story's first real sentence (after a repeated headline, a byline, a
dateline, labels and headings); which of its sentences make the teaser is `selection`'s choice,
which `openers` keeps readable. Only the opening is split into sentences, since that is slow,
while the whole story is counted (in one pass) for what it repeats.
"""

from __future__ import annotations

import re

from digest.errors import BuildError
from digest.models import Story
from digest.teaser.body import drop_title, story_blocks
from digest.teaser.selection import choose, pair_counts
from digest.teaser.sentences import SENTENCE_END, iter_sentences, split_sentences
from digest.teaser.words import cut, join, opening, weight, worded
from digest.text import article_blocks, clean_article_text, fold_space, is_markup, strip_lead_in

__all__ = ["make_teaser", "reads_as_story", "split_sentences", "teaser_for"]

_WORD = re.compile(r"\w+")
_CUT_END = re.compile(r"\s*(?:…|\.\.\.|\. \. \.)$")
# A teaser is never shorter than this many words (or this share of its budget) while the text
# offers more.
_MIN_WORDS = 20
_MIN_SHARE = 0.6
# Sentences starting within this many budgets of the opening may be in the teaser.
_FILL_SPAN = 2
# Plain text is cleaned (boilerplate, title, byline) this many words past what a teaser can use.
_CLEANING_SLACK_WORDS = 20


def make_teaser(text: str, max_words: int, title: str = "", language: str = "en") -> str:
    """Whole sentences from the story's opening within `max_words` (see the module's docstring).

    `text` may be HTML. A CJK character counts as half a word, since those scripts put no spaces
    between words.
    """
    if max_words < 1:
        raise BuildError(f"teaser word budget must be at least 1 (got {max_words})")
    budget = 2 * max_words
    min_size = int(2 * min(_MIN_WORDS, _MIN_SHARE * max_words))
    # A sentence that starts within the span and fits ends within a budget after it.
    window = (_FILL_SPAN + 1) * budget + 2
    head, rest = (text, "") if is_markup(text) else _plain_opening(text, window)
    blocks = article_blocks(head)
    if not blocks:
        return ""
    cleaned = " ".join(blocks)
    headline = clean_article_text(title)
    # What is left after the title or a lead-in must still say something ("Title!" leaves "!").
    body = worded(drop_title(cleaned, headline, blocks)) or cleaned
    body = worded(strip_lead_in(body)) or cleaned
    # All of the story is evidence of what it is about, the title once more.
    evidence = pair_counts(f"{body} {rest}", headline)
    if is_markup(text) or _is_paragraphs(blocks):
        body = story_blocks(body, cleaned, blocks, min_size)
    cut_marker = _CUT_END.search(body)
    was_cut = cut_marker is not None
    if cut_marker:
        body = body[: cut_marker.start()].rstrip() or body
    body, truncated = opening(body, window)
    sentences, first = _whole_sentences(body, language, truncated, was_cut, _FILL_SPAN * budget)
    # No whole sentence: the text stops before its first one ends.
    chosen = choose(sentences, evidence, budget, min_size, language) if sentences else []
    teaser = join(chosen) if chosen else cut(first or body, budget)
    if worded(teaser) or not worded(body):
        return teaser
    # The sentences that fit are marks alone ("…!" before an unfinished sentence): cut the text.
    return cut(body, budget)


def _plain_opening(text: str, window: int) -> tuple[str, str]:
    """The lines of plain `text` that hold its first `window` half-words and a few more, which is
    all a teaser can use, so a long text is cleaned no further than that; and the rest, which
    only counts the story's words (the opening ends with "…" to tell that the text goes on)."""
    head, truncated = opening(text, window + 2 * _CLEANING_SLACK_WORDS)
    if not truncated:
        return text, ""
    line_end = text.find("\n", len(head))
    end = line_end if line_end != -1 else len(head)
    return text[:end] + " …", text[end:]


def _is_paragraphs(blocks: list[str]) -> bool:
    """Whether the lines of a plain text are its paragraphs (as the article reader writes them),
    not a paragraph wrapped at a fixed width: most of them end a sentence."""
    return len(blocks) > 1 and 2 * sum(bool(SENTENCE_END.search(b)) for b in blocks) > len(blocks)


def _whole_sentences(
    body: str, language: str, truncated: bool, was_cut: bool, span: int
) -> tuple[list[str], str]:
    """The whole sentences of `body` that start within `span` half-words (up to the end of a
    text that stops mid-sentence), and its first sentence, whole or not."""
    sentences = iter_sentences(body, language)
    upcoming = next(sentences, None)
    first = upcoming or ""
    whole: list[str] = []
    start = 0
    while upcoming is not None and start <= span:
        sentence, upcoming = upcoming, next(sentences, None)
        unfinished = truncated or (was_cut and not SENTENCE_END.search(sentence))
        if upcoming is None and unfinished:
            break
        whole.append(sentence)
        start += weight(sentence)
    return whole, first


def teaser_for(story: Story, max_words: int, language: str = "en") -> str:
    """The editor's teaser (Story.teaser, whitespace-folded, otherwise untouched) when set;
    else make_teaser(story.text, ...), or none when that only repeats words of the title (a post
    whose title is its whole text, a chart entry's "James Blunt" under "#1: You're Beautiful -
    James Blunt")."""
    if story.teaser.strip():
        return fold_space(story.teaser)
    teaser = make_teaser(story.text, max_words, title=story.title, language=language)
    return "" if _words(teaser) <= _words(clean_article_text(story.title)) else teaser


def reads_as_story(text: str, max_words: int, title: str = "", language: str = "en") -> bool:
    """Whether the teaser `text` gives is the story's prose: whole sentences (or a long one cut)
    of at least twenty words, or all of a shorter text; not a label, a heading or a fragment."""
    teaser = make_teaser(text, max_words, title=title, language=language)
    if not teaser or not (SENTENCE_END.search(teaser) or teaser.endswith("…")):
        return False
    size = weight(teaser.removesuffix("…"))
    return size >= int(2 * min(_MIN_WORDS, _MIN_SHARE * max_words)) or size >= weight(
        clean_article_text(text)
    )


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}
