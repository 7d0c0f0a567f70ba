"""`digest send --workers N`: one send shared by N sender processes on this machine.

This process leads: it lists the subscribers, stores the message for the workers, and stays
registered as the send's lead while N `digest worker --issue DATE --once` processes (each with
DIGEST_SMTP_CONNECTIONS connections) claim and send the rows, exactly as workers on other
machines would. It shows their progress from the ledger's counts, passes a stop on to them, and
sums up when they are done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from digest.deliver.worker import PartDone
from digest.errors import DeliveryError
from digest.state.ledger import Ledger
from digest.state.schema import FAILED, SENT

WATCH_EVERY = 0.25
"""Seconds between two looks at the workers and the counts."""


def default_workers() -> int:
    """One sender process per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_workers(
    ledger: Ledger,
    issue: str,
    workers: int,
    stop: threading.Event,
    shown: Callable[[int, int], None],
) -> PartDone:
    """Run `workers` processes on the send of `issue` (which this process leads) until they are
    done; return how many messages they sent and failed. `shown(sent, failed)` is called as the
    counts move."""
    before = ledger.counts(issue)
    command = [sys.executable, "-m", "digest.commands.worker", "--issue", issue, "--once"]
    # Each in a session of its own, so a Ctrl-C reaches this process only, which passes the stop
    # on: the workers then finish their messages in flight, like any SIGTERMed worker.
    children = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        for _ in range(workers)
    ]
    passed_on = False
    try:
        while any(child.poll() is None for child in children):
            if stop.is_set() and not passed_on:
                _terminate(children)
                passed_on = True
            with contextlib.suppress(sa.exc.DBAPIError):  # a database restart: next look
                counts = ledger.counts(issue)
                shown(counts[SENT] - before[SENT], counts[FAILED] - before[FAILED])
            time.sleep(WATCH_EVERY)
    finally:
        _terminate(children)
        for child in children:
            child.wait()
    counts = ledger.counts(issue)
    failed = [child.returncode for child in children if child.returncode != 0]
    if failed and not stop.is_set():
        raise DeliveryError(
            f"{len(failed)} of {workers} sender processes failed (exit "
            f"{', '.join(map(str, failed))}); their lines above say why, and `digest send` "
            "sends the rest"
        )
    return PartDone(sent=counts[SENT] - before[SENT], failed=counts[FAILED] - before[FAILED])


def _terminate(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
