"""How long a teaser takes for a long story, and how often pysbd alone splits sentences wrongly.

Run by hand: `.venv/bin/python benchmarks/teaser.py`. Prints medians; asserts nothing.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pysbd
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.teaser import make_teaser, split_sentences  # noqa: E402
from digest.text import clean_article_text, html_to_text  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "teaser"
TITLE = "Senate passes the water bill"


def long_article(words: int) -> str:
    """The fixture page with its story paragraphs repeated until the page holds `words` words."""
    page = (FIXTURES / "article.html").read_text(encoding="utf-8")
    paragraphs = [
        lxml_html.tostring(p, encoding="unicode")
        for p in lxml_html.document_fromstring(page).iter("p")
        if len(p.text_content().split()) >= 15
    ]
    per_round = sum(len(html_to_text(p).split()) for p in paragraphs)
    rounds = math.ceil((words - len(html_to_text(page).split())) / per_round)
    return page.replace("</article>", "".join(paragraphs * rounds) + "</article>")


def median_ms(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def pysbd_alone(text: str, language: str) -> list[str] | None:
    """pysbd's own sentences; None for a language it refuses."""
    try:
        segmenter = pysbd.Segmenter(language=language, clean=False)
    except ValueError:
        return None
    return [s.strip() for s in segmenter.segment(text) if s.strip()]


def main() -> None:
    article = long_article(5_000)
    plain = html_to_text(article)
    cleaned = clean_article_text(article)
    print(f"article: {len(plain.split())} words, {len(article):,} bytes of HTML")
    timed: list[tuple[str, Callable[[], object], int]] = [
        ("make_teaser(HTML, 60)", lambda: make_teaser(article, 60, TITLE), 30),
        ("make_teaser(plain text, 60)", lambda: make_teaser(plain, 60, TITLE), 30),
        ("make_teaser(plain text, 35)", lambda: make_teaser(plain, 35, TITLE), 30),
        ("clean_article_text(HTML)", lambda: clean_article_text(article), 30),
        ("split_sentences(whole story)", lambda: split_sentences(cleaned), 3),
        ("pysbd on the whole story at once", lambda: pysbd_alone(cleaned, "en"), 1),
    ]
    for label, action, runs in timed:
        print(f"{label:34s} {median_ms(action, runs):9.1f} ms (median of {runs})")

    cases = json.loads((FIXTURES / "sentences.json").read_text(encoding="utf-8"))
    raw = sum(pysbd_alone(c["text"], c["language"]) == c["sentences"] for c in cases)
    ours = sum(split_sentences(c["text"], c["language"]) == c["sentences"] for c in cases)
    print(
        f"labelled sentence cases right: pysbd alone {raw}/{len(cases)}, ours {ours}/{len(cases)}"
    )


if __name__ == "__main__":
    main()
