"""Send benchmark: `digest send --workers N` against Postfix's `smtp-sink`, next to `smtp-source`.

Run by hand, as root (smtp-sink drops to `nobody`), with Debian's postfix and postgresql installed:

    .venv/bin/python benchmarks/send.py [--workers 1 2 4] [--subscribers 20000] [--rounds 3]
        [--connections 4] [--backends sqlite postgresql] [--dry-run-rows 1000000]

For each state backend and worker count it times the whole command, from start to exit (listing
the subscribers, the send gate, N worker processes, the summary), on a fresh state database each
time, and times `smtp-source` sending as many messages of the same size over the same total number
of connections (N × --connections). The two are measured interleaved (reference, ours, reference,
ours…, --rounds times) so that a machine busy with something else slows both alike; it prints
the medians, their ratio and each worker's peak memory (RSS high-water mark, as each worker logs
it). Then it lists --dry-run-rows subscribers and dry-runs them (`digest send --dry-run`: claimed
in batches, built and checked, in one process) and prints the peak memory. Nothing here is
asserted; the numbers are for people, and on a shared machine indicative only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Settings, load_settings  # noqa: E402
from digest.models import PREVIEW_RECIPIENT, Issue, Story  # noqa: E402
from digest.prepare import prepare_message  # noqa: E402
from digest.store import write_issue  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

SECRET = "benchmark-secret-key-0123456789"
TARGET_SIZE = 40_000
PEAK = re.compile(r"this worker sent (\d+), failed (\d+) \(peak memory (\d+) MB\)")


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


def build_issue(settings: Settings) -> int:
    """A real issue, rendered by the real renderer, grown until its message is about 40 KB;
    written to the issues folder. Returns the message's size."""
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
        size = len(prepare_message(issue, settings).personalise(PREVIEW_RECIPIENT))
        if size >= TARGET_SIZE or more >= 50:
            write_issue(settings, issue, {}, {})
            return size
        more += 1


class Databases:
    """A fresh state database per run: a new SQLite file, or a new PostgreSQL database."""

    def __init__(self, work: Path, server: PostgresServer | None) -> None:
        self.work = work
        self.server = server
        self.made = 0

    def fresh(self, backend: str) -> str:
        self.made += 1
        if backend == "sqlite":
            return f"sqlite:///{self.work / f'state-{self.made}.db'}"
        assert self.server is not None
        return self.server.create_database()


def digest_env(work: Path, port: int, url: str, connections: int, subscribers: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "DIGEST_ISSUES_DIR": str(work / "issues"),
        "DIGEST_SUBSCRIBERS": str(subscribers),
        "DIGEST_SECRET_KEY": SECRET,
        "DIGEST_STATE_URL": url,
        "DIGEST_SMTP_HOST": "127.0.0.1",
        "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_CONNECTIONS": str(connections),
        "DIGEST_SMTP_TIMEOUT": "30",
    }


def measured_send(env: dict, *args: str) -> tuple[float, int, str]:
    """Seconds, peak memory (MB) and log of `digest send ARGS`, timed and measured from a process
    of its own, so that no earlier run's high-water mark counts."""
    measure = (
        "import resource, subprocess, sys, time; started = time.perf_counter(); "
        f"done = subprocess.run({[sys.executable, '-m', 'digest', 'send', *args]!r}, "
        "stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - started, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, done.returncode)"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure],
        env=env,
        cwd=env["DIGEST_ISSUES_DIR"],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak, returncode = result.stdout.split()
    if returncode != "0":
        raise SystemExit(f"digest send {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return float(seconds), int(peak), result.stderr


def run_digest(env: dict, *args: str) -> tuple[float, list[int]]:
    """Seconds of the whole command and each sender's peak memory (MB). With one worker the
    command sends in its own process, whose peak is measured from outside."""
    seconds, own_peak, log = measured_send(env, "--force", *args)
    return seconds, [int(peak) for _, _, peak in PEAK.findall(log)] or [own_peak]


def run_smtp_source(port: int, count: int, size: int, connections: int) -> float:
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
    return time.perf_counter() - started


@contextmanager
def smtp_sink() -> Iterator[int]:
    port = free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1024"])
    try:
        wait_for_port(port)
        yield port
    finally:
        sink.terminate()
        sink.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--dry-run-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not shutil.which("smtp-sink") or not shutil.which("smtp-source"):
        raise SystemExit("needs smtp-sink and smtp-source: apt-get install postfix")
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder, smtp_sink() as port:
        work = Path(folder)
        (work / "issues").mkdir()
        size = build_issue(load_settings(issues_dir=work / "issues", secret_key=SECRET))
        subscribers = write_list(work / "list.csv", args.subscribers)
        server = PostgresServer() if "postgresql" in args.backends else None
        if server is not None:
            server.start()
        try:
            databases = Databases(work, server)
            print(
                f"{args.subscribers:,} messages of {size / 1024:.1f} KB, "
                f"{args.connections} connections per worker, {args.rounds} rounds, medians:"
            )
            for backend in args.backends:
                for workers in args.workers:
                    ours: list[float] = []
                    reference: list[float] = []
                    peaks: list[int] = []
                    for _ in range(args.rounds):
                        total = workers * args.connections
                        reference.append(run_smtp_source(port, args.subscribers, size, total))
                        env = digest_env(
                            work, port, databases.fresh(backend), args.connections, subscribers
                        )
                        seconds, peak = run_digest(env, "--workers", str(workers))
                        ours.append(seconds)
                        peaks.extend(peak)
                    rate = args.subscribers / statistics.median(ours)
                    ref_rate = args.subscribers / statistics.median(reference)
                    print(
                        f"  {backend:10} {workers} worker(s): digest {rate:7,.0f}/s  "
                        f"smtp-source {ref_rate:7,.0f}/s  ratio {rate / ref_rate:4.2f}  "
                        f"peak per worker {max(peaks, default=0)} MB"
                    )
            if args.dry_run_rows:
                rows = write_list(work / "many.csv", args.dry_run_rows)
                env = digest_env(work, port, databases.fresh("sqlite"), args.connections, rows)
                seconds, peak, _ = measured_send(env, "--dry-run")
                print(
                    f"  dry run of {args.dry_run_rows:,} subscribers (claimed in batches, one "
                    f"process): {seconds:.0f}s ({args.dry_run_rows / seconds:,.0f}/s), "
                    f"peak {peak:.0f} MB"
                )
        finally:
            if server is not None:
                server.remove()


if __name__ == "__main__":
    main()
