"""digest's pysbd Segmenter (digest/teaser/segmenter.py) skips abbreviations that never occur
with a full stop: on real text, in every language pysbd is asked for, its sentences are
pysbd's own."""

from __future__ import annotations

import json

import pysbd
import pytest

from digest.teaser.segmenter import Segmenter
from digest.text import fold_space
from tests.support.shared_data import shared_data

WINDOW = 600


def _windows() -> list[tuple[str, str]]:
    """(language, text) windows of the articles in ../shared/data: CNN/DailyMail stories and
    real news pages in seven languages."""
    windows = []
    for line in shared_data("teaser-dev.jsonl").read_text(encoding="utf-8").splitlines()[:25]:
        text = fold_space(json.loads(line)["article"])
        windows += [("en", text[start : start + WINDOW]) for start in range(0, 3 * WINDOW, WINDOW)]
    for path in sorted(shared_data("articles").glob("*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        text = fold_space(page["text"])
        language = (page.get("language") or "en").split("-")[0]
        windows += [
            (language, text[start : start + WINDOW]) for start in range(0, 4 * WINDOW, WINDOW)
        ]
    return [(language, text) for language, text in windows if text]


@pytest.mark.parametrize("language", ["en", "de", "fr", "ru", "ja"])
def test_the_sentences_are_pysbds_own(language: str) -> None:
    windows = _windows()
    assert len(windows) > 120
    for own_language, text in windows:
        code = language if language != "en" else own_language
        if code not in pysbd.languages.LANGUAGE_CODES:
            code = "en"
        expected = pysbd.Segmenter(language=code, clean=False).segment(text)
        assert Segmenter(language=code, clean=False).segment(text) == expected, (code, text)
