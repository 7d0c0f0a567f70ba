"""Send benchmark: digest's SMTP delivery against Postfix's `smtp-sink`, next to `smtp-source` (C).

Run by hand, as root (smtp-sink drops to `nobody`), with Debian's postfix package installed:

    .venv/bin/python benchmarks/send.py [--subscribers N] [--connections N] [--dry-run-rows N]

It prints digest's messages per second, smtp-source's rate for the same count, size and
connections, their ratio, and the peak memory (RSS high-water mark) of `digest send --dry-run`
over a list of `--dry-run-rows` subscribers. Nothing here is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Settings, load_settings  # noqa: E402
from digest.deliver import send_issue  # noqa: E402
from digest.message import MessageTemplate  # noqa: E402
from digest.models import PREVIEW_RECIPIENT, Issue, Story  # noqa: E402
from digest.pipeline import prepare_message  # noqa: E402
from digest.state.engine import state_engine  # noqa: E402
from digest.state.ledger import Ledger  # noqa: E402
from digest.store import write_issue  # noqa: E402

SECRET = "benchmark-secret-key-0123456789"
TARGET_SIZE = 40_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"smtp-sink did not listen on 127.0.0.1:{port}")


def write_list(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name\n")
        for start in range(0, count, 10_000):
            handle.writelines(
                f"reader{n}@example.com,Reader {n}\n"
                for n in range(start, min(count, start + 10_000))
            )
    return path


def build_issue(settings: Settings) -> tuple[Issue, MessageTemplate]:
    """A real issue, rendered by the real renderer, grown until its message is about 40 KB."""
    teaser = "A long teaser sentence about the harbour talks and what they mean for the fleet. " * 3
    more = 0
    while True:
        issue = Issue(
            date=dt.date(2026, 11, 26),
            newsletter=settings.newsletter_name,
            subject="The Daily Digest: Harbour talks resume as fleets idle",
            preheader="Today's news in five minutes",
            lead=Story(
                title="Harbour talks resume", url="https://news.example.com/0", teaser=teaser
            ),
            more=[
                Story(title=f"Story {n}", url=f"https://news.example.com/{n}", teaser=teaser)
                for n in range(1, more + 1)
            ],
        )
        template = prepare_message(issue, settings)
        if len(template.personalise(PREVIEW_RECIPIENT)) >= TARGET_SIZE or more >= 50:
            write_issue(settings, issue, {}, {})
            return issue, template
        more += 1


def bench_digest(work: Path, port: int, subscribers: int, connections: int) -> tuple[float, int]:
    settings = load_settings(
        issues_dir=work / "issues",
        subscribers=write_list(work / "list.csv", subscribers),
        secret_key=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_connections=connections,
        smtp_timeout=60,
    )
    issue, template = build_issue(settings)
    size = len(template.personalise(PREVIEW_RECIPIENT))
    engine = state_engine(settings)
    summary = send_issue(settings, issue, template, Ledger(engine), stop=threading.Event())
    engine.dispose()
    if summary.sent != subscribers:
        raise SystemExit(f"digest sent {summary.sent} of {subscribers}: {summary.line}")
    return summary.rate, size


def bench_smtp_source(port: int, count: int, size: int, connections: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            "smtp-source",
            "-s",
            str(connections),
            "-m",
            str(count),
            "-l",
            str(size),
            "-f",
            "news@example.org",
            "-t",
            "reader@example.com",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return count / (time.perf_counter() - started)


def bench_dry_run_memory(work: Path, rows: int) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `digest send --dry-run` over `rows` subscribers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DIGEST_ISSUES_DIR": str(work / "issues"),
        "DIGEST_SUBSCRIBERS": str(write_list(work / "million.csv", rows)),
        "DIGEST_SECRET_KEY": SECRET,
        "DIGEST_STATE_URL": f"sqlite:///{work / 'unused.db'}",
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "digest", "send", "--dry-run"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--dry-run-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not shutil.which("smtp-sink") or not shutil.which("smtp-source"):
        raise SystemExit("needs smtp-sink and smtp-source: apt-get install postfix")
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "256"])
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
            work = Path(folder)
            rate, size = bench_digest(work, port, args.subscribers, args.connections)
            print(
                f"digest:      {rate:8,.0f} messages/s  ({args.subscribers:,} messages of "
                f"{size / 1024:.1f} KB over {args.connections} connections)"
            )
            reference = bench_smtp_source(port, args.subscribers, size, args.connections)
            print(f"smtp-source: {reference:8,.0f} messages/s  (same count, size, connections)")
            print(f"ratio:       {rate / reference:8.2f}")
            if args.dry_run_rows:
                peak, seconds = bench_dry_run_memory(work, args.dry_run_rows)
                print(
                    f"dry run:     {peak:8,.0f} MB peak RSS over {args.dry_run_rows:,} subscribers "
                    f"({seconds:.0f}s, {args.dry_run_rows / seconds:,.0f} rows/s)"
                )
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
