"""How fast the bounce mailbox is read: classifying the real bounces of ../shared/data/bounces/
(flufl.bounce and digest's own readers), whole passes over a Maildir of them against SQLite
(reading, classifying, storing events and statuses, marking), and passes over a Maildir of replies
digest leaves alone: the first reads them all, the next ones none (they are remembered).

Run: .venv/bin/python benchmarks/bounce_mailbox.py [--runs N] [--messages N]
"""

from __future__ import annotations

import argparse
import logging
import mailbox
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.audience.mailbox.classify import classify  # noqa: E402
from digest.audience.mailbox.run import read_mailbox, readers  # noqa: E402
from digest.audience.store import SubscriberStore  # noqa: E402
from digest.config import load_settings  # noqa: E402
from digest.state.engine import open_engine  # noqa: E402
from tests.support.mailbox_data import BOUNCES, real_bounce, real_bounce_names  # noqa: E402

SECRET = "benchmark-secret-key-0123456789"


def classify_all(runs: int) -> None:
    settings = load_settings(secret_key=SECRET, bounce_address="bounces@example.com")
    keys = readers(settings)
    messages = [real_bounce(name) for name in real_bounce_names()]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for raw in messages:
            classify(raw, keys)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"classify: {len(messages)} real bounces in {median * 1000:.0f} ms (median of {runs}), "
        f"{median / len(messages) * 1000:.2f} ms a message"
    )


def passes(runs: int, count: int) -> None:
    names = real_bounce_names()
    addresses = {address for name in names for address in BOUNCES[name]}
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="digest-mailbox-bench-") as folder:
            box = mailbox.Maildir(Path(folder) / "Maildir", create=True)
            for number in range(count):
                name = names[number % len(names)]
                box.add(f"X-Copy: {number}\r\n".encode() + real_bounce(name))
            engine = open_engine(f"sqlite:///{Path(folder) / 'state.db'}")
            store = SubscriberStore(engine)
            for address in addresses:
                store.add(address)
            settings = load_settings(secret_key=SECRET, mailbox_url=str(Path(folder) / "Maildir"))
            started = time.perf_counter()
            summary = read_mailbox(settings, engine)
            times.append(time.perf_counter() - started)
            engine.dispose()
            assert summary.read == count
    median = statistics.median(times)
    print(
        f"pass: {count} messages in a Maildir, SQLite, in {median:.2f} s (median of {runs}), "
        f"{count / median:.0f} messages/s"
    )


def reply(number: int) -> bytes:
    return (
        f"From: reader{number}@example.org\r\nTo: news@example.com\r\nSubject: Re: the issue\r\n"
        f"Message-ID: <reply{number}@example.org>\r\n\r\nThanks!\r\n\r\n> quoted issue\r\n"
        + "> text\r\n"
        * 200
    ).encode()


def replies(runs: int, count: int) -> None:
    first, later = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="digest-mailbox-bench-") as folder:
            box = mailbox.Maildir(Path(folder) / "Maildir", create=True)
            for number in range(count):
                box.add(reply(number))
            engine = open_engine(f"sqlite:///{Path(folder) / 'state.db'}")
            settings = load_settings(secret_key=SECRET, mailbox_url=str(Path(folder) / "Maildir"))
            for times in (first, later):
                started = time.perf_counter()
                read_mailbox(settings, engine)
                times.append(time.perf_counter() - started)
            engine.dispose()
    print(
        f"replies left alone: {count} in a Maildir, first pass {statistics.median(first):.2f} s, "
        f"next pass {statistics.median(later):.2f} s (medians of {runs})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    classify_all(args.runs)
    passes(max(1, args.runs // 2), args.messages)
    replies(max(1, args.runs // 2), args.messages)


if __name__ == "__main__":
    main()
