"""pysbd's Segmenter, with one shortcut in its slowest step.

pysbd protects the full stop of each abbreviation it knows (188 for English) by running regular
expressions for every one whose letters occur in the text at all: "al", "no" or "op" occur in
almost any text, and that search took a third of a teaser's time. Each of those expressions
changes only an abbreviation followed by its full stop, so an abbreviation that never occurs
with one is skipped here; the sentences are the same (tests/test_sentences_segmenter.py compares
them with pysbd's own on real articles).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pysbd
from pysbd.abbreviation_replacer import AbbreviationReplacer
from pysbd.processor import Processor


class _Abbreviations:
    """`search_for_abbreviations_in_string` of pysbd 0.3.4, but for abbreviations that occur
    followed by a full stop."""

    lang: Any

    def search_for_abbreviations_in_string(self, text: str) -> str:
        lowered = text.lower()
        for abbr in self.lang.Abbreviation.ABBREVIATIONS:
            stripped = abbr.strip()
            if stripped + "." not in lowered:
                continue
            abbrev_match = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
            if not abbrev_match:
                continue
            char_array = re.findall(r"(?<={" + re.escape(stripped) + "} ).{1}", text)
            for index, match in enumerate(abbrev_match):
                text = self.scan_for_replacements(text, match, index, char_array)  # type: ignore[attr-defined]
        return text


@cache
def _replacer(base: type) -> type:
    return type(f"Quick{base.__name__}", (_Abbreviations, base), {})


@cache
def _processor(base: type) -> type:
    def abbreviations_replacer(self: Any) -> Any:
        language_own = getattr(self.lang, "AbbreviationReplacer", AbbreviationReplacer)
        return _replacer(language_own)(self.text, self.lang)

    return type(
        f"Quick{base.__name__}", (base,), {"abbreviations_replacer": abbreviations_replacer}
    )


class Segmenter(pysbd.Segmenter):  # type: ignore[misc]
    """pysbd.Segmenter, with the abbreviation shortcut above."""

    def processor(self, text: str) -> Any:
        base = getattr(self.language_module, "Processor", Processor)
        return _processor(base)(text, self.language_module, char_span=self.char_span)
