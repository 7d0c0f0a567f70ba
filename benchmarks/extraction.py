"""How well digest reads real news pages: title accuracy and text overlap (token F1) of the article
reader (`digest.sources.article.read_article`, used for page leads and for enrichment) on saved
pages with known titles and texts. Run by hand; never asserted in tests.

    .venv/bin/python benchmarks/extraction.py [FOLDER]

FOLDER (default benchmarks/data/extraction) holds either
  - pairs `NAME.html` (or `NAME.html.gz`) + `NAME.json` with {"url", "title", "text"}, or
  - the layout of scrapinghub/article-extraction-benchmark: `ground-truth.json` mapping an id to
    {"url", "articleBody", optionally "headline"} and `html/ID.html.gz`.
A page without a known title counts for text only. See benchmarks/data/extraction/README.md.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from digest.http import Fetched
from digest.sources import title_key
from digest.sources.article import read_article

DEFAULT_FOLDER = Path(__file__).parent / "data" / "extraction"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    html: bytes
    title: str | None
    text: str


def cases(folder: Path) -> list[Case]:
    """The saved pages of `folder`, in either layout."""
    truth_file = folder / "ground-truth.json"
    if truth_file.is_file():
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        return [
            Case(
                name=key,
                url=entry["url"],
                html=gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()),
                title=entry.get("headline"),
                text=entry["articleBody"],
            )
            for key, entry in sorted(truth.items())
            if (folder / "html" / f"{key}.html.gz").is_file()
        ]
    found = []
    for meta in sorted(folder.glob("*.json")):
        stem = meta.name.removesuffix(".json")
        page = folder / f"{stem}.html"
        packed = folder / f"{stem}.html.gz"
        if not (page.is_file() or packed.is_file()):
            continue
        html = page.read_bytes() if page.is_file() else gzip.decompress(packed.read_bytes())
        entry = json.loads(meta.read_text(encoding="utf-8"))
        found.append(Case(stem, entry["url"], html, entry.get("title"), entry["text"]))
    return found


def token_f1(got: str, expected: str) -> float:
    """Bag-of-words F1 between two texts (case-folded word tokens), as the extraction benchmarks
    report it."""
    got_tokens = Counter(_WORD.findall(got.casefold()))
    expected_tokens = Counter(_WORD.findall(expected.casefold()))
    common = sum((got_tokens & expected_tokens).values())
    if not common:
        return 0.0
    precision = common / sum(got_tokens.values())
    recall = common / sum(expected_tokens.values())
    return 2 * precision * recall / (precision + recall)


def main(folder: Path) -> int:
    found = cases(folder)
    if not found:
        print(f"No saved pages in {folder}; see {DEFAULT_FOLDER / 'README.md'}.", file=sys.stderr)
        return 1
    read_article(Fetched(content=b"<html><p>warm up</p></html>", url="https://x.example.org/"))
    scores: list[float] = []
    titles: list[bool] = []
    seconds: list[float] = []
    for case in found:
        started = time.perf_counter()
        article = read_article(Fetched(content=case.html, url=case.url, content_type="text/html"))
        seconds.append(time.perf_counter() - started)
        score = token_f1(article.text, case.text)
        scores.append(score)
        title_ok = None if case.title is None else title_key(article.title) == title_key(case.title)
        if title_ok is not None:
            titles.append(title_ok)
        mark = {None: " ", True: "✓", False: "✗"}[title_ok]
        print(f"{score:5.2f}  {mark}  {case.name[:40]:40}  {article.title[:70]!r}")
    print()
    print(f"pages               {len(found)}")
    mean, median = statistics.mean(scores), statistics.median(scores)
    print(f"text token F1       mean {mean:.3f}, median {median:.3f}")
    if titles:
        print(f"title exact (folded) {sum(titles)}/{len(titles)} = {sum(titles) / len(titles):.1%}")
    print(f"time per page       median {statistics.median(seconds) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER))
