"""Which of a story's opening sentences make its teaser.

A teaser is read instead of the story, so it should carry what the story is about, and the first
sentence often does not: it is a hook, a scene or a quotation. What a story is about is what it
keeps coming back to. A word pair that the rest of an article repeats is several times likelier
to be in the summary its editors write (measured on CNN/Daily Mail articles and their highlights:
about 8% of the pairs said once, 30% of those repeated once, 45% of those repeated three times).
So, with the article itself standing in for a summary, the teaser is the whole sentences of the
opening, kept in story order, whose pairs are worth most for their length: an estimate of their
overlap of word pairs with a summary (ROUGE-2 F1), which the subsets of the first six sentences
are few enough to weigh one by one. The story's first sentence is favoured and later ones count
less. A later sentence opens the teaser only when it does not lean on what came before it
("But…", "He…"; `openers`), so in a language for which no such words are known, the first
does; and "“…,” he said" does not follow sentences left out that name someone else.

A short text that fits is its own teaser, and one whose sentences cannot make twenty words
within the budget is read in story order, as a reader would meet it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import combinations, pairwise

from digest.teaser.openers import Lean, Reading, read
from digest.teaser.sentences import SENTENCE_END
from digest.teaser.words import CJK, cut, weight, word_parts

Pair = tuple[str, str]

# The first sentences of the opening that may be chosen: all their subsets (63) are weighed.
_CANDIDATES = 6
# The chance that a pair the rest of the article repeats c more times is in its summary:
# _FLOOR + _RISE · (1 − e^(−_RATE·c)) (fitted to the measurements above).
_FLOOR = 0.085
_RISE = 0.42
_RATE = 0.8
# Pairs of the sentences from this position on count this much less per position further:
# editors summarise from the top.
_LATE_POSITION = 4
_LATE_FACTOR = 0.5
# About a summary's length in half-words (editors' highlights average 47 words, 46 word pairs).
# Pairs are counted in half-words too, each as its second word: a CJK character is half a word.
_SUMMARY_SIZE = 2 * 46
# A teaser that opens with the sentence at position i rather than the first counts
# 1 / (1 + _LATER_OPENING · i): the first sentence is where the story starts for its reader.
_LATER_OPENING = 0.15
# The chosen sentences may total this fraction more than the budget, so a teaser ends on a whole
# sentence rather than cutting one a few words before its end.
_STRETCH = 0.2
# A sentence of fewer words, or mostly links ("That's not.", a list of addresses), says little
# without the sentence before it: it follows that one or is not taken.
_MIN_ALONE_WORDS = 5
# A short opening read in story order ends with the next sentence cut only if that leaves it
# this many words.
_MIN_CUT_WORDS = 5


def pair_counts(text: str, title: str = "") -> Counter[Pair]:
    """How often each pair of consecutive words occurs in `text` (the whole story, so one pass
    with no sentence splitting), plus once for each pair of the story's `title`: a headline is
    one more telling of what the story is about."""
    words = word_parts(text)
    counts = Counter(pairwise(words))
    title_words = word_parts(title)
    counts.update(set(pairwise(title_words)))
    return counts


def choose(
    sentences: list[str], counts: Counter[Pair], budget: int, min_size: int, language: str
) -> list[str]:
    """The teaser's sentences out of the opening's whole `sentences` (the first of them the
    story's first), within `budget` half-words and up to a fifth over it, and `min_size`
    half-words or more when the text offers that (the last sentence cut if it must be).

    `counts` are the pairs of the whole story (`pair_counts`). A first sentence far over the
    budget is cut, with "…"."""
    sizes = [weight(sentence) for sentence in sentences]
    stretch = budget + int(budget * _STRETCH)
    if sum(sizes) <= budget:
        return sentences
    if sizes[0] > stretch:
        return [cut(sentences[0], budget)]
    best = _best_subset(sentences[:_CANDIDATES], sizes, counts, stretch, min_size, language)
    if best is None:
        return _in_story_order(sentences, sizes, budget, stretch, min_size)
    return [sentences[index] for index in best]


def _best_subset(
    sentences: list[str],
    sizes: list[int],
    counts: Counter[Pair],
    stretch: int,
    min_size: int,
    language: str,
) -> tuple[int, ...] | None:
    """The positions of the sentences, in order, with the best estimated overlap with a summary,
    among those that read as a teaser and total `min_size` to `stretch` half-words; None if no
    such sentences."""
    own = [Counter(pairwise(word_parts(sentence))) for sentence in sentences]
    length = [sum(_size(pair) * n for pair, n in pairs.items()) for pairs in own]
    late = [_LATE_FACTOR ** max(0, i + 1 - _LATE_POSITION) for i in range(len(sentences))]
    # What ends without a stop after the first sentence is a heading, a list item or a line of
    # links at the end of a block, no teaser's sentence.
    ends = [i == 0 or bool(SENTENCE_END.search(s)) for i, s in enumerate(sentences)]
    alone = [_stands_alone(sentence) for sentence in sentences]
    # A sentence that leans on the ones before opens no teaser (none does where that cannot be
    # told).
    readings = read(sentences, language)
    may_open = [
        i == 0 or (alone[i] and readings is not None and readings[i].lean is Lean.NOT)
        for i in range(len(sentences))
    ]
    worth = _pair_worth(own, counts, late)
    best: tuple[int, ...] | None = None
    best_value = 0.0
    for many in range(1, len(sentences) + 1):
        for subset in combinations(range(len(sentences)), many):
            size = sum(sizes[index] for index in subset)
            if not may_open[subset[0]] or not min_size <= size <= stretch:
                continue
            if not all(ends[index] for index in subset):
                continue
            if not _reads_on(subset, alone, readings):
                continue
            chosen = sum(1 << index for index in subset)
            value = sum(values[chosen & holders] for holders, values in worth.items())
            chosen_length = sum(length[index] for index in subset)
            value *= 2 / (chosen_length + _SUMMARY_SIZE) / (1 + _LATER_OPENING * subset[0])
            if value > best_value:
                best, best_value = subset, value
    return best


def _reads_on(subset: tuple[int, ...], alone: list[bool], readings: list[Reading] | None) -> bool:
    """Whether each sentence of `subset` that comes after sentences left out can follow them: it
    stands alone, and if it speaks of someone named before ("He said…"), the sentences left
    out name no one the teaser has not, who it could mean."""
    for position, index in enumerate(subset[1:], start=1):
        previous = subset[position - 1]
        if previous == index - 1:
            continue
        if not alone[index]:
            return False
        if readings is None or readings[index].lean is not Lean.REFERS:
            continue
        named = set().union(*(readings[i].names for i in subset[:position]))
        if any(readings[i].names - named for i in range(previous + 1, index)):
            return False
    return True


def _pair_worth(
    own: list[Counter[Pair]], counts: Counter[Pair], late: list[float]
) -> dict[int, list[float]]:
    """What the pairs of the sentences are worth to a subset of them, by the set of sentences
    that hold them (a bit mask): for each subset of those holders, indexed by its mask, the sum
    over those pairs of their chance of being in the summary (`_chance`), at the least discount
    among the holders taken. A pair is worth more the fewer of its holders are taken, and counts
    once."""
    holders: dict[Pair, int] = {}
    for index, pairs in enumerate(own):
        for pair in pairs:
            holders[pair] = holders.get(pair, 0) | 1 << index
    worth: dict[int, list[float]] = {}
    for index, pairs in enumerate(own):  # most pairs have one holder
        held = 1 << index
        single = (_chance(counts[p] - n) * _size(p) for p, n in pairs.items() if holders[p] == held)
        worth[held] = [0.0] * (1 << len(own))
        worth[held][held] = sum(single) * late[index]
    for pair, held in holders.items():
        if not held & (held - 1):
            continue
        values = worth.setdefault(held, [0.0] * (1 << len(own)))
        chosen = held
        while chosen:  # every non-empty subset of the holders
            inside = [index for index in range(len(own)) if chosen >> index & 1]
            repeats = counts[pair] - sum(own[index][pair] for index in inside)
            value = _chance(repeats) * _size(pair) * max(late[index] for index in inside)
            values[chosen] += value
            chosen = (chosen - 1) & held
    return worth


def _size(pair: Pair) -> int:
    """What a pair adds to a text's length in half-words: its second word."""
    return 1 if CJK.match(pair[1]) else 2


def _chance(repeats: int) -> float:
    """The estimated chance that a pair the rest of the story repeats `repeats` times is in its
    summary."""
    return _CHANCES[min(max(0, repeats), len(_CHANCES) - 1)]


_CHANCES = tuple(_FLOOR + _RISE * (1 - math.exp(-_RATE * repeats)) for repeats in range(40))


def _in_story_order(
    sentences: Sequence[str], sizes: list[int], budget: int, stretch: int, min_size: int
) -> list[str]:
    """The sentences in story order while they fit the budget; an opening shorter than
    `min_size` takes the next sentence too, finished within `stretch` or cut, since a short
    opening and the sentence after it read as one."""
    chosen = [sentences[0]]
    used = sizes[0]
    for sentence, size in zip(sentences[1:], sizes[1:], strict=True):
        if used + size <= budget:
            chosen.append(sentence)
            used += size
            continue
        if used < min_size:
            if used + size <= stretch:
                chosen.append(sentence)
            elif budget - used >= 2 * _MIN_CUT_WORDS:
                chosen.append(cut(sentence, budget - used))
        break
    return chosen


def _stands_alone(sentence: str) -> bool:
    """Whether `sentence` can follow a sentence other than the one before it: a few words or more,
    not mostly links."""
    tokens = sentence.split()
    links = sum(1 for token in tokens if "://" in token or token.startswith("www."))
    return weight(sentence) >= 2 * _MIN_ALONE_WORDS and 2 * links < len(tokens)
