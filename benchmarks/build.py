"""Median time of each build stage, for the bundled sample issue (1+4) and for an issue of 30 items.

Run: .venv/bin/python benchmarks/build.py [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from xml.sax.saxutils import escape

import mjml

from digest.compose import compose_issue
from digest.config import Settings
from digest.message import compose
from digest.models import PREVIEW_RECIPIENT, RenderedEmail
from digest.pipeline import build_issue, sample_feed
from digest.render import (
    HTML_TEMPLATE,
    TEXT_TEMPLATE,
    environment,
    inline_css,
    render_template,
    template_context,
)
from digest.select import select_stories
from digest.sources import gather

T = TypeVar("T")
DAY = dt.date(2026, 11, 26)
PARAGRAPH = (
    "Officials said on Tuesday that the plan, which has been debated for more than a year, "
    "would cost about $1.2 billion and take until 2029 to finish. Dr. Ana Ruiz, who chairs the "
    "committee, called it “a start, not a solution.” Critics in the U.S. and Europe disagree. "
)


def many_items_feed(folder: Path, count: int) -> str:
    """An RSS feed of `count` items with real-length bodies and remote images."""
    items = []
    for n in range(count):
        image = (
            f'<media:content url="https://img.example.com/{n}.jpg" medium="image" '
            f'width="800" height="450"><media:credit>Photographer {n}</media:credit>'
            "</media:content>"
            if n % 3
            else ""
        )
        body = escape("<p>" + PARAGRAPH * 6 + "</p>")
        items.append(
            f"<item><title>Story number {n} about the council's budget plan</title>"
            f"<link>https://news.example.com/{n}</link>"
            f"<pubDate>Wed, 25 Nov 2026 {n % 24:02d}:00:00 +0000</pubDate>"
            f"<category>Politics</category>{image}<description>{body}</description></item>"
        )
    path = folder / "many.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Many</title>'
        f"<link>https://news.example.com/</link>{''.join(items)}</channel></rss>"
    )
    return str(path)


def timed(runs: int, work: Callable[[], T]) -> tuple[float, T]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result  # type: ignore[return-value]


def measure(label: str, source: str, more_count: int, runs: int, folder: Path) -> None:
    settings = Settings(issues_dir=folder / label, more_count=more_count)
    env = environment(settings)
    rows: list[tuple[str, float]] = []

    ms, stories = timed(runs, lambda: gather([source], settings))
    rows.append(("parse (sources)", ms))
    ms, issue = timed(
        runs,
        lambda: compose_issue(select_stories(stories, more_count, set()), settings, DAY),
    )
    rows.append(("select + teasers", ms))
    context = template_context(issue, settings, "https://example.com/issues/2026-11-26/")
    ms, (source_mjml, _) = timed(runs, lambda: render_template(env, HTML_TEMPLATE, context))
    rows.append(("template (Jinja2)", ms))
    ms, compiled = timed(runs, lambda: mjml.mjml2html(source_mjml, disable_comments=True, fonts={}))
    rows.append(("MJML (mjml-python)", ms))
    ms, html = timed(runs, lambda: inline_css(compiled))
    rows.append(("inlining (premailer)", ms))
    ms, (text, _) = timed(runs, lambda: render_template(env, TEXT_TEMPLATE, context))
    rows.append(("text part", ms))
    rendered = RenderedEmail(html=html, text=text)
    ms, _ = timed(runs, lambda: compose(issue, rendered, settings).personalise(PREVIEW_RECIPIENT))
    rows.append(("message (MIME)", ms))
    ms, _ = timed(runs, lambda: build_issue(settings, date=DAY, sources=[source]))
    rows.append(("total: digest build", ms))

    print(f"\n{label}: 1 lead + {len(issue.more)} more, HTML {len(html.encode()) / 1024:.1f} KB")
    for name, value in rows:
        print(f"  {name:<24} {value:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # The 30-item issue is over Gmail's limit on purpose; say so once, not once per run.
    logging.getLogger("digest.pipeline").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"median of {args.runs} runs per stage")
        measure("sample", sample_feed(), 4, args.runs, folder)
        measure("30 items", many_items_feed(folder, 31), 30, args.runs, folder)
        print("(the 30-item email is over the 102 KB at which Gmail clips; the build warns)")


if __name__ == "__main__":
    main()
