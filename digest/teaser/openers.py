"""Which sentences can open a teaser: those that do not lean on a sentence before them.

A teaser that skips the story's first sentence must still read as a beginning. "But he said it
was not enough." leans on what it skipped, and a subscriber cannot tell who "he" is nor what
"it" was. Whether a sentence leans is read from its words: a first word that points back (a
connective or a pronoun) or a pronoun before the sentence names anyone. That takes a list of
such words for each language; a story in a language without one opens with its first sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from itertools import chain


@dataclass(frozen=True)
class _Wording:
    """A language's words that tell whether a sentence leans on the ones before it."""

    # First words that go on from the sentence before: connectives and adverbs.
    connectives: frozenset[str]
    # First words that do so when a comma follows them: answers ("No, …", "Well, …").
    answers: frozenset[str]
    # Openings of more than one word that go on from the sentence before ("In addition", "As a
    # result"), lower case, as tuples of words.
    phrases: frozenset[tuple[str, ...]]
    # Prepositions after which a demonstrative points back: "With that…", "Despite this…".
    prepositions: frozenset[str]
    # Demonstratives that point back when a preposition opens the sentence with them.
    demonstratives: frozenset[str]
    # Pronouns and determiners that stand for someone or something named before.
    pronouns: frozenset[str]
    # First words that stand for something named before, as pronouns do, but that are common
    # inside a sentence without doing so.
    relatives: frozenset[str]
    # A few of its commonest words, by which a text reads as written in the language.
    common: frozenset[str]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(phrase.split()) for phrase in text.split(","))


_WORDINGS = {
    "en": _Wording(
        connectives=_words(
            "accordingly additionally afterwards again also alternatively and another anyhow "
            "anyway besides both but consequently either finally furthermore hence here however "
            "indeed instead lastly later likewise meanwhile moreover naturally neither "
            "nevertheless nonetheless nor or otherwise plus regardless similarly so still then "
            "there thereafter therefore though thus too whereas yet"
        ),
        answers=_words("no ok okay right sure well yes"),
        phrases=_phrases(
            "after all, as a result, as such, at the same time, by contrast, even so, for example,"
            " for instance, in addition, in contrast, in fact, in particular, in response, in turn,"
            " of course, on the other hand, on top of that, that said, to that end, to be sure"
        ),
        prepositions=_words(
            "after against at because before beyond by despite during for from given in like on "
            "over since through to under with without"
        ),
        demonstratives=_words("that these this those such"),
        pronouns=_words(
            "he her hers him his it its she such their theirs them these they this those"
        ),
        relatives=_words("herself himself itself that themselves which who whom whose"),
        common=_words("and for from have of that the this to with"),
    )
}
# A story is taken to be written in the language it was given (its own, else the issue's) when
# at least this share of its opening's words are among the language's commonest (measured on
# real feeds: 2.7% or more of English text, 1.3% or less of other languages' text), since a
# story without a declared language is given the issue's.
_COMMON_SHARE = 0.02
_WORD = re.compile(r"[^\W_]+")
_FIRST_WORD_AND_COMMA = re.compile(r"\W*([^\W_]+)\s*,")
# A sentence that opens with a quotation, and what follows its end: “…,” he said.
_QUOTED = re.compile(r"\s*[“\"‘«].*[”\"’»](?P<attribution>[^”\"’»]*)$")


class Lean(IntEnum):
    """How a sentence leans on the sentences before it."""

    NOT = 0
    # A pronoun comes before the sentence names anyone: "The firm said it…"
    UNNAMED = 1
    # It goes on from the sentence before: "But…", "However,…", "No, …", or it is the rest of
    # a sentence split in two (it starts in lower case).
    GOES_ON = 2
    # It speaks of someone or something named before: "He…", "This…", "“…,” she said."
    REFERS = 3


@dataclass(frozen=True)
class Reading:
    """How a sentence leans on the ones before it, and the names it mentions."""

    lean: Lean
    names: frozenset[str]


def read(sentences: list[str], language: str) -> list[Reading] | None:
    """How each of the opening's `sentences` leans on the ones before it, or None if that
    cannot be told (a language whose words are not known here).

    A name is a word the opening writes capitalised inside a sentence."""
    words = [_WORD.findall(sentence) for sentence in sentences]
    wording = _wording(language, list(chain.from_iterable(words)))
    if wording is None:
        return None
    names = {word for sentence_words in words for word in sentence_words[1:] if word[0].isupper()}
    names.discard("I")
    return [
        Reading(_lean(sentence, sentence_words, wording, names), names.intersection(sentence_words))
        for sentence, sentence_words in zip(sentences, words, strict=True)
    ]


def _wording(language: str, words: list[str]) -> _Wording | None:
    """The words of `language`, if known here and the opening's `words` read as it."""
    wording = _WORDINGS.get(language.split("-")[0].split("_")[0].lower())
    if wording is None:
        return None
    common = sum(word.lower() in wording.common for word in words)
    return wording if common >= _COMMON_SHARE * len(words) else None


def _lean(sentence: str, words: list[str], wording: _Wording, names: set[str]) -> Lean:
    if not words or not words[0].isascii() or words[0][0].islower():
        return Lean.GOES_ON
    first = words[0].lower()
    answer = _FIRST_WORD_AND_COMMA.match(sentence)
    if first in wording.connectives or (answer and answer.group(1).lower() in wording.answers):
        return Lean.GOES_ON
    opening = tuple(word.lower() for word in words[:4])
    if any(opening[: len(phrase)] == phrase for phrase in wording.phrases):
        return Lean.GOES_ON
    if first in wording.prepositions and wording.demonstratives.intersection(opening[1:3]):
        return Lean.REFERS
    if first in wording.pronouns or first in wording.relatives:
        return Lean.REFERS
    quote = _QUOTED.match(sentence)
    if quote:  # who said it is told after it, if anywhere
        words = _WORD.findall(quote.group("attribution"))
        if words and words[0].lower() in wording.pronouns:
            return Lean.REFERS
    for word in words:
        if word in names:
            return Lean.NOT
        if word.lower() in wording.pronouns:
            return Lean.UNNAMED
    return Lean.NOT
