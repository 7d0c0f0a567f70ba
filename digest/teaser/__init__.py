"""Teasers: whole sentences from a story's opening that use a word budget well.

The teaser opens with the story's first real sentence (after a repeated headline, a byline, a
dateline, labels and headings). A first sentence a little over the budget is finished rather than
cut a few words before its end; one far over is cut with "…". Sentences that follow fill the
budget in the story's order, skipping one that does not fit for a later one of the opening
paragraphs that does; a short opening is never left alone when the next sentence could follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from digest.errors import BuildError
from digest.models import Story
from digest.teaser.body import drop_title, story_blocks
from digest.teaser.sentences import SENTENCE_END, iter_sentences, split_sentences
from digest.teaser.words import cut, join, opening, weight, worded
from digest.text import article_blocks, clean_article_text, fold_space, is_markup, strip_lead_in

__all__ = ["make_teaser", "reads_as_story", "split_sentences", "teaser_for"]

_CUT_END = re.compile(r"\s*(?:…|\.\.\.|\. \. \.)$")
# A first sentence up to this fraction over the budget is finished rather than cut.
_STRETCH = 0.2
# A teaser shorter than this many words (or this share of its budget) takes the next sentence
# too, finished or cut, as long as the cut leaves a few words of it.
_MIN_WORDS = 20
_MIN_SHARE = 0.6
_MIN_CUT_WORDS = 5
# Sentences starting within this many budgets of the opening may fill the teaser; after one was
# skipped, only those of a few words or more that are not mostly links ("That's not." or a list
# of addresses says little without what came before).
_FILL_SPAN = 2
_MIN_FILL_WORDS = 5
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
    stretch = budget + int(budget * _STRETCH)
    # A sentence that starts within the span and fits ends within a budget after it.
    window = (_FILL_SPAN + 1) * budget + 2
    blocks = article_blocks(text if is_markup(text) else _plain_opening(text, window))
    if not blocks:
        return ""
    cleaned = " ".join(blocks)
    # What is left after the title or a lead-in must still say something ("Title!" leaves "!").
    body = worded(drop_title(cleaned, clean_article_text(title), blocks)) or cleaned
    body = worded(strip_lead_in(body)) or cleaned
    if is_markup(text) or _is_paragraphs(blocks):
        body = story_blocks(body, cleaned, blocks, min_size)
    cut_marker = _CUT_END.search(body)
    was_cut = cut_marker is not None
    if cut_marker:
        body = body[: cut_marker.start()].rstrip() or body
    body, truncated = opening(body, window)
    chosen: list[str] = []
    used = 0
    first = ""
    skipped = False
    for sentence, whole in _candidates(body, language, truncated, was_cut, _FILL_SPAN * budget):
        first = first or sentence
        if not whole:
            break  # the text stops mid-sentence here
        size = weight(sentence)
        if skipped and not _stands_alone(sentence):
            continue
        room = budget - used
        if chosen and used >= min_size and (room < 2 or (skipped and room < 2 * _MIN_FILL_WORDS)):
            break  # no sentence that could follow fits any more
        if used + size <= (stretch if not chosen else budget):
            chosen.append(sentence)
            used += size
        elif not chosen:
            break
        elif used < min_size:
            # A short opening and the sentence after it read as one.
            if used + size <= stretch:
                chosen.append(sentence)
            elif budget - used >= 2 * _MIN_CUT_WORDS:
                chosen.append(cut(sentence, budget - used))
            break
        else:
            skipped = True
    teaser = join(chosen) if chosen else cut(first or body, budget)
    if worded(teaser) or not worded(body):
        return teaser
    # The sentences that fit are marks alone ("…!" before an unfinished sentence): cut the text.
    return cut(body, budget)


def _plain_opening(text: str, window: int) -> str:
    """The lines of plain `text` that hold its first `window` half-words and twice as many more:
    all a teaser can use, so a long text is cleaned no further than that (what follows would only
    tell that the text goes on)."""
    head, truncated = opening(text, window + 2 * _CLEANING_SLACK_WORDS)
    if not truncated:
        return text
    line_end = text.find("\n", len(head))
    return text[: line_end if line_end != -1 else len(head)] + " …"


def _is_paragraphs(blocks: list[str]) -> bool:
    """Whether the lines of a plain text are its paragraphs (as the article reader writes them),
    not a paragraph wrapped at a fixed width: most of them end a sentence."""
    return len(blocks) > 1 and 2 * sum(bool(SENTENCE_END.search(b)) for b in blocks) > len(blocks)


def _stands_alone(sentence: str) -> bool:
    tokens = sentence.split()
    links = sum(1 for token in tokens if "://" in token or token.startswith("www."))
    return weight(sentence) >= 2 * _MIN_FILL_WORDS and 2 * links < len(tokens)


def _candidates(
    body: str, language: str, truncated: bool, was_cut: bool, span: int
) -> Iterator[tuple[str, bool]]:
    """The sentences of `body` that start within `span` half-words, each with whether it is
    whole (not the end of a text that stops mid-sentence)."""
    sentences = iter_sentences(body, language)
    upcoming = next(sentences, None)
    start = 0
    while upcoming is not None and start <= span:
        sentence, upcoming = upcoming, next(sentences, None)
        unfinished = truncated or (was_cut and not SENTENCE_END.search(sentence))
        yield sentence, not (upcoming is None and unfinished)
        start += weight(sentence)


def teaser_for(story: Story, max_words: int, language: str = "en") -> str:
    """The editor's teaser (Story.teaser, whitespace-folded, otherwise untouched) when set;
    else make_teaser(story.text, ...), or none when that only repeats the title (a post whose
    title is its whole text)."""
    if story.teaser.strip():
        return fold_space(story.teaser)
    teaser = make_teaser(story.text, max_words, title=story.title, language=language)
    return "" if _letters(teaser) == _letters(clean_article_text(story.title)) else teaser


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


def _letters(text: str) -> str:
    return "".join(char.casefold() for char in text.removesuffix("…") if char.isalnum())
