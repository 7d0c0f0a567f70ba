"""Subscriber-list benchmark: how long a list of N rows takes to import into the subscribers table
(`digest subscribers import`, as every `digest send` with DIGEST_SUBSCRIBERS does), to import
again unchanged (the daily re-export: skipped by its fingerprint), to import again in full
(`--force`: every row read, checked and compared), to import with one row in 100 changed, and to be
listed into the ledger for one issue (one INSERT … SELECT), with the process's peak memory after
each step.

    .venv/bin/python benchmarks/subscribers.py [--rows 1000000] [--backend sqlite|postgresql URL]

Each step runs in a fresh subprocess, so the peak memory (RSS high-water mark) is that step's own.
Nothing here is asserted; the numbers are for people, and on a shared machine indicative only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP = """
import pathlib, resource, sys, time
sys.path.insert(0, {root!r})
from digest.audience.csv_import import ListReport
from digest.audience.importer import import_list
from digest.state.engine import open_engine
from digest.state.ledger import Ledger
engine = open_engine({url!r})
started = time.perf_counter()
if {step!r} == "enqueue":
    Ledger(engine).enqueue_active("2026-11-26")
    done = sum(Ledger(engine).counts("2026-11-26").values())
else:
    report = ListReport()
    import_list(engine, pathlib.Path({path!r}), report=report, force={step!r} == "force")
    done = report.rows
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{done}} {{seconds:.2f}} {{peak:.0f}}")
"""


def write_list(path: Path, rows: int, changed: int = 0) -> None:
    """A list of `rows` readers; with `changed`, every `changed`-th reader has a new city."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,city\n")
        handle.writelines(
            f"reader{n}@example.com,Reader {n},City {n % 97}"
            f"{' (moved)' if changed and n % changed == 0 else ''}\n"
            for n in range(rows)
        )


def step(name: str, url: str, path: Path) -> tuple[int, float, float]:
    code = STEP.format(root=str(ROOT), url=url, path=str(path), step=name)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", default="", help="a state URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        path = Path(folder) / "list.csv"
        write_list(path, arguments.rows)
        url = arguments.backend or f"sqlite:///{Path(folder) / 'state.db'}"
        steps = (
            ("import", "first import", None),
            ("import", "import again, unchanged", None),
            ("force", "import again, --force", None),
            ("import", "1 row in 100 changed", 100),
            ("enqueue", "listed into the ledger", None),
        )
        for name, label, changed in steps:
            if changed:
                write_list(path, arguments.rows, changed)
            rows, seconds, peak = step(name, url, path)
            print(
                f"{label:<26} {rows:>9,} rows in {seconds:7.2f}s "
                f"({rows / seconds:>11,.0f}/s), peak {peak:.0f} MB"
            )


if __name__ == "__main__":
    main()
