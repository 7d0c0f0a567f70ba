"""The editor's round trip: an edit saved from the desk until the issue folder is rendered again.

Measures `digest.web.desk.save_issue` (write issue.json, then the pipeline's `rerender`: the same
code as `digest preview`) for a 1+10 issue, and splits the time into the pipeline's parts so the
bottleneck is visible. Run: `.venv/bin/python benchmarks/rerender.py [rounds]`. Target: < 100 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest.config import Settings
from digest.models import PREVIEW_RECIPIENT, Issue
from digest.pipeline import rerender
from digest.prepare import prepare_message
from digest.render import render_email
from digest.store import write_issue
from digest.web.desk import save_issue

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "render"
TARGET_MS = 100.0


def issue_with_ten_more() -> Issue:
    issue = Issue.model_validate_json((FIXTURE / "issue.json").read_text(encoding="utf-8"))
    more = [
        story.model_copy(update={"title": f"{story.title} ({n})", "url": f"{story.url}?n={n}"})
        for n in range(3)
        for story in issue.more
    ][:10]
    return issue.model_copy(update={"more": more})


def median_ms(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(issues_dir=Path(folder) / "issues")
        issue = issue_with_ten_more()
        images = {path.name: path for path in (FIXTURE / "images").iterdir()}
        write_issue(settings, issue, {}, images)
        rerender(settings, issue.date)
        counter = iter(range(10**9))

        def edit() -> None:
            changed = issue.model_copy(update={"subject": f"Edited subject {next(counter)}"})
            save_issue(settings, changed)

        round_trip, best = median_ms(edit, rounds)
        preview, _ = median_ms(lambda: render_email(issue, settings), rounds)
        mail, _ = median_ms(
            lambda: prepare_message(issue, settings).personalise(PREVIEW_RECIPIENT), rounds
        )
    print(f"1+{len(issue.more)} issue, {rounds} rounds")
    print(f"edit -> re-rendered folder: median {round_trip:.1f} ms (best {best:.1f} ms)")
    print(f"  render_email (preview HTML + text): median {preview:.1f} ms")
    print(f"  prepare_message + personalise (mail HTML + MIME): median {mail:.1f} ms")
    print(f"  the rest (issue.json, images, atomic write): ~{round_trip - preview - mail:.1f} ms")
    verdict = "meets" if round_trip < TARGET_MS else f"misses by {round_trip / TARGET_MS:.1f}x"
    print(f"target < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
