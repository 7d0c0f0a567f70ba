"""How well digest reads real news pages: title accuracy and text overlap (token F1) of the article
reader (`digest.sources.article.read_article`, used for page leads and for enrichment) on saved
pages with known titles and texts. Run by hand; never asserted in tests.

    .venv/bin/python benchmarks/extraction.py [FOLDER]

FOLDER (default `../shared/data/articles/` beside the checkout, third-party pages the repository
does not carry) holds either
  - pairs `NAME.html` (or `NAME.html.gz`) + `NAME.json` with {"url", "title", "text"}, or
  - the layout of scrapinghub/article-extraction-benchmark: `ground-truth.json` mapping an id to
    {"url", "articleBody", optionally "headline"} and `html/ID.html.gz`.
A page without a known title counts for text only; an optional "language" groups the summary.
See the README in `../shared/data/articles/`; `benchmarks/import_newspaper4k.py` writes layout 1.

Per page it prints text precision, recall and F1 over word tokens (case-folded, NFKC; Chinese,
Japanese, Thai and other scripts written without spaces count one character a token), and whether
the title is exact (after NFKC and white space folding: "="), equal once case and punctuation are
folded ("≈", the comparison digest uses to spot duplicates) or wrong ("✗", with its similarity).
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.http import Fetched  # noqa: E402
from digest.sources import title_key  # noqa: E402
from digest.sources.article import read_article  # noqa: E402
from tests.support.shared_data import SHARED_DATA, shared_data  # noqa: E402

_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK ideographs
)
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    html: bytes
    title: str | None
    text: str
    language: str = ""


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
        found.append(
            Case(
                stem,
                entry["url"],
                html,
                entry.get("title"),
                entry["text"],
                entry.get("language", ""),
            )
        )
    return found


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()))


def overlap(got: str, expected: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of `got` against `expected`, as the extraction
    benchmarks report them."""
    got_tokens, expected_tokens = tokens(got), tokens(expected)
    common = sum((got_tokens & expected_tokens).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision = common / sum(got_tokens.values())
    recall = common / sum(expected_tokens.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def normalized(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).split())


def title_mark(got: str, expected: str | None) -> str:
    if expected is None:
        return "     "
    if normalized(got) == normalized(expected):
        return "=    "
    if title_key(got) == title_key(expected):
        return "≈    "
    return f"✗{SequenceMatcher(None, normalized(got), normalized(expected)).ratio():.2f}"


def main(folder: Path) -> int:
    found = cases(folder)
    if not found:
        print(f"No saved pages in {folder}; see {SHARED_DATA / 'articles'}.", file=sys.stderr)
        return 1
    read_article(Fetched(content=b"<html><p>warm up</p></html>", url="https://x.example.org/"))
    scores: dict[str, list[float]] = defaultdict(list)
    marks: list[str] = []
    seconds: list[float] = []
    print("   P     R     F1  title  name                            title found")
    for case in found:
        started = time.perf_counter()
        article = read_article(Fetched(content=case.html, url=case.url, content_type="text/html"))
        seconds.append(time.perf_counter() - started)
        precision, recall, f1 = overlap(article.text, case.text)
        scores[case.language or "?"].append(f1)
        mark = title_mark(article.title, case.title)
        if case.title is not None:
            marks.append(mark[0])
        scored = f"{precision:5.2f} {recall:5.2f} {f1:5.2f}"
        print(f"{scored}  {mark} {case.name[:30]:30}  {article.title[:60]!r}")
    every = [score for group in scores.values() for score in group]
    print()
    print(f"pages         {len(found)}; {statistics.median(seconds) * 1000:.0f} ms a page (median)")
    print(f"text F1       mean {statistics.mean(every):.3f}, median {statistics.median(every):.3f}")
    for language, group in sorted(scores.items()):
        print(f"  {language:11} mean {statistics.mean(group):.3f} over {len(group)}")
    if marks:
        exact, folded = marks.count("="), marks.count("=") + marks.count("≈")
        print(f"title         exact {exact}/{len(marks)}, equal once folded {folded}/{len(marks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data("articles")))
