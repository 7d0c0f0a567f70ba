"""Copies newspaper4k's saved news pages into FOLDER (layout 1 of `benchmarks/extraction.py`,
`np4k-NAME.html.gz` + `np4k-NAME.json`), with the corrections listed in the README of
`../shared/data/articles/`, where the team keeps them. Run once by hand:

    .venv/bin/python benchmarks/import_newspaper4k.py /tmp/dl/newspaper4k-0.9.6 FOLDER

The pages are third-party data: write them outside the repository, never into it.

The argument is the unpacked sdist of newspaper4k 0.9.6 (MIT licence, © 2013 Lucas Ou-Yang), whose
`tests/data/html/NAME.html`, `metadata/NAME.json` and `txt/NAME.txt` are a page, its URL and title,
and its expected text.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

SKIPPED = {"video_article_01": "the same file as cleveland.com1"}
STRIPPED = {"cnn_001", "cnn_002", "cnn_test_nlp"}
"""Pages over 2.5 MB (750 KB gzipped): kept without their scripts (all but JSON-LD), styles and
comments, which the extractor never reads."""
TITLES = {
    # newspaper's titles come from <title>/og:title; the article shows these as its <h1>.
    "cnn_001": "The nonstop sparring match between the conservative justice and liberal Biden "
    "attorney at the Supreme Court",
    "cnn_test_nlp": "Gates on Tillerson and Russia: ‘Being friendly doesn’t make you friends’",
    "japanese_article": "米朝首脳直通電話　習氏に挑むトランプ戦術の成否",
    "time_001": "We Need Geoengineering to Stop Out of Control Warming, Warns Climate Scientist "
    "James Hansen",
}
DROPPED_LINES = {
    # Lines of newspaper's text that are not the article's prose.
    "cleveland.com1": ["google.JPG", "Related Stories"],
    "cnn_article": [
        "Are you in the grips of the wintry storm sweeping across the country? Please share your "
        "videos, pictures and stories at iReport.",
        "Don't get trapped by bad Thanksgiving weather: Top tips",
        "#ATL24: A day in the life of the world's busiest airport",
        "5 healthy eating tips for holiday travelers",
        "Storm prompts airlines to relax travel policies",
    ],
    "time_001": [
        "Read more: A Controversial Technology Is Creating an Unprecedented Rift Among Climate "
        "Scientists",
        "Read more: Inside a Controversial Startup's Risky Attempt to Control Our Climate",
    ],
    "video_article_02": [
        "ADD TO CART: US$25 League of Legends Gift Card for NA server",
        "PUNCH FIRST: Funko Pop Games League of Legends Vi Vinyl Figure Action Figure",
        "VIEW PRICE: Funko Pop Games League of Legends Lee Sin",
        "Follow ONE Esports on Facebook and Twitter for more LoL news, guides, and highlights.",
        "READ MORE: Riot is considering making these changes to the Worlds 2024 format",
    ],
    "article_with_divs": ["Kate Henshaw"],
}
DROPPED_PREFIXES = {
    "video_article_02": ["Just a heads up, some of the links on ONE Esports are affiliate links."],
}
ADDED_LEAD = {
    # The post's first paragraph, above its photo, which newspaper's text misses.
    "article_with_divs": "Photos which were released online and are making the rounds on social "
    "media, show Nigerian actress, Kate Henshaw, looking absolutely stunning in new make-up "
    "photos.",
}


def stripped(page: str) -> str:
    page = re.sub(
        r"<script\b(?![^>]*application/ld\+json)[^>]*>.*?</script\s*>", "", page, flags=re.S | re.I
    )
    page = re.sub(r"<style\b[^>]*>.*?</style\s*>", "", page, flags=re.S | re.I)
    return re.sub(r"<!--.*?-->", "", page, flags=re.S)


def expected_text(name: str, text: str) -> str:
    dropped = DROPPED_LINES.get(name, [])
    prefixes = DROPPED_PREFIXES.get(name, [])
    lines = [line for line in text.strip().split("\n\n") if line.strip()]
    missing = [line for line in dropped if line not in lines]
    if missing:
        raise SystemExit(f"{name}: lines to drop not found: {missing}")
    kept = [
        line
        for line in lines
        if line not in dropped and not any(line.startswith(prefix) for prefix in prefixes)
    ]
    if name in ADDED_LEAD:
        kept.insert(0, ADDED_LEAD[name])
    return "\n\n".join(kept)


def main(sdist: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = sdist / "tests" / "data"
    for page in sorted((data / "html").glob("*.html")):
        name = page.name.removesuffix(".html")
        meta, text = data / "metadata" / f"{name}.json", data / "txt" / f"{name}.txt"
        if name in SKIPPED or not (meta.is_file() and text.is_file()):
            continue
        entry = json.loads(meta.read_text(encoding="utf-8"))
        html = page.read_bytes()
        if name in STRIPPED:
            html = stripped(html.decode("utf-8")).encode("utf-8")
        packed = gzip.compress(html, compresslevel=9, mtime=0)
        stem = f"np4k-{name.replace('.', '-')}"
        (out / f"{stem}.html.gz").write_bytes(packed)
        truth = {
            "url": entry["url"],
            "title": TITLES.get(name, entry["title"]),
            "text": expected_text(name, text.read_text(encoding="utf-8")),
            "language": entry["language"],
        }
        dumped = json.dumps(truth, ensure_ascii=False, indent=1)
        (out / f"{stem}.json").write_text(dumped + "\n", encoding="utf-8")
        print(f"{stem:32} {len(packed) // 1024:4} KB")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {sys.argv[0]} NEWSPAPER4K_SDIST FOLDER")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
