"""How much of a story digest's teasers carry: ROUGE against human highlights.

Reads `../shared/data/teaser-dev.jsonl` (100 CNN/Daily Mail articles with the highlights their
editors wrote; see that folder's README), never a copy in this repository. For each budget it
scores digest's teaser and three baselines with ROUGE-1/2/L F1 (`rouge-score`, stemmed, ×100,
mean over the articles):

- lead-words: the first N words, cut anywhere (the seed page's cut);
- lead-sentences: the first whole sentences that fit, stopping at the first that does not;
- lead-fill: whole sentences from the first six, skipping any that does not fit.

A word is a whitespace-separated token holding a letter or digit. Also prints the mean words of
each system, digest's time per article, and its median time on the articles of 900 to 1,100
words (the issue's limit: under 5 ms for a 1,000-word article). Times are wall-clock: run on a
quiet machine. Run by hand (`pip install -e '.[bench]'`):

    .venv/bin/python benchmarks/teaser_quality.py [DATA.jsonl]

Asserts nothing; the numbers go in notes.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rouge_score import rouge_scorer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.teaser import make_teaser, split_sentences  # noqa: E402
from tests.support.shared_data import shared_data  # noqa: E402

BUDGETS = (52, 35)
METRICS = ("rouge1", "rouge2", "rougeL")
FILL_SENTENCES = 6
LONG_ARTICLE_WORDS = (900, 1_100)
TIMING_RUNS = 5


def words(text: str) -> int:
    return sum(1 for token in text.split() if any(char.isalnum() for char in token))


def lead_words(article: str, budget: int) -> str:
    kept: list[str] = []
    for token in article.split():
        if any(char.isalnum() for char in token):
            if budget == 0:
                break
            budget -= 1
        kept.append(token)
    return " ".join(kept)


def lead_sentences(article: str, budget: int) -> str:
    kept: list[str] = []
    for sentence in split_sentences(article):
        if words(" ".join([*kept, sentence])) > budget:
            break
        kept.append(sentence)
    return " ".join(kept) or lead_words(article, budget)


def lead_fill(article: str, budget: int) -> str:
    kept: list[str] = []
    for sentence in split_sentences(article)[:FILL_SENTENCES]:
        if words(" ".join([*kept, sentence])) <= budget:
            kept.append(sentence)
    return " ".join(kept) or lead_words(article, budget)


def digest(article: str, budget: int) -> str:
    return make_teaser(article, budget)


SYSTEMS: dict[str, Callable[[str, int], str]] = {
    "digest": digest,
    "lead-words": lead_words,
    "lead-sentences": lead_sentences,
    "lead-fill": lead_fill,
}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data("teaser-dev.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    print(f"{len(rows)} articles from {path}")
    header = f"{'system':16s} {'budget':>6s} {'R1':>6s} {'R2':>6s} {'RL':>6s} {'words':>6s}"
    print(header + f" {'ms/article':>10s}")
    for budget in BUDGETS:
        for name, system in SYSTEMS.items():
            teasers = []
            started = time.perf_counter()
            for row in rows:
                teasers.append(system(row["article"], budget))
            per_article = (time.perf_counter() - started) * 1000 / len(rows)
            pairs = zip(rows, teasers, strict=True)
            scores = [scorer.score(row["reference"], teaser) for row, teaser in pairs]
            means = [100 * statistics.fmean(s[m].fmeasure for s in scores) for m in METRICS]
            mean_words = statistics.fmean(words(t) for t in teasers)
            timing = f"{per_article:10.2f}" if name == "digest" else ""
            print(
                f"{name:16s} {budget:6d} {means[0]:6.2f} {means[1]:6.2f} {means[2]:6.2f}"
                f" {mean_words:6.1f} {timing}"
            )
    articles = [row["article"] for row in rows]
    for budget in (*BUDGETS, 60):
        low, high = LONG_ARTICLE_WORDS
        ms = long_article_ms(articles, budget)
        print(f"digest @{budget}: {ms:.2f} ms median per article of {low:,}-{high:,} words")


def long_article_ms(articles: list[str], budget: int) -> float:
    """digest's median time per article over the articles of about 1,000 words."""
    low, high = LONG_ARTICLE_WORDS
    timings = []
    for article in (a for a in articles if low <= words(a) <= high):
        make_teaser(article, budget)
        started = time.perf_counter()
        for _ in range(TIMING_RUNS):
            make_teaser(article, budget)
        timings.append((time.perf_counter() - started) * 1000 / TIMING_RUNS)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
