"""`digest worker`: a sender that joins whatever send is in progress on the shared state database,
helps until it is done, then waits for the next one.

A send is in progress while its lead (the `digest send` or scheduler process that started it)
is alive; a worker takes its message from the database (`sends.template`, stored by the lead), so
it needs no issue folder, only the same secret key, DKIM key and relay settings. It hears of a new
send through PostgreSQL's LISTEN/NOTIFY, and looks every few seconds anyway (and on SQLite, where
all senders share one machine).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from digest.config import Settings
from digest.deliver.outgoing import Result
from digest.deliver.smtp import SmtpSender
from digest.deliver.worker import Part, PartDone, Presence, help_send
from digest.message import MessageTemplate
from digest.state.engine import retrying
from digest.state.ledger import NOTIFY_CHANNEL, Ledger, OpenSend

log = logging.getLogger("digest.worker")

LOOK_EVERY = 5.0
"""Seconds between two looks for a send in progress when no notification came."""
STOP_SLICE = 0.5
"""Longest a wait for a notification goes without looking at the stop request."""


def serve(
    settings: Settings,
    ledger: Ledger,
    stop: threading.Event,
    *,
    issue: str | None = None,
    once: bool = False,
    told: Callable[[str, PartDone], None] = lambda _issue, _done: None,
) -> int:
    """Help with every send in progress (only `issue`'s, if given) until `stop`; with `once`,
    return as soon as none is left instead of waiting. Return how many sends it helped with."""
    helped = 0
    with Presence(ledger, settings, "worker") as presence, _notifications(ledger) as wait:
        while not stop.is_set():
            found = retrying(
                lambda: ledger.open_sends(settings.send_lease), within=settings.send_lease
            )
            wanted = [send for send in found if issue is None or send.issue == issue]
            if not wanted:
                if once:
                    break
                wait(stop, LOOK_EVERY)
                continue
            send = wanted[0]
            done = _help(settings, ledger, presence, send, stop)
            helped += 1
            told(send.issue, done)
            if once and issue is not None:
                break
    return helped


def _help(
    settings: Settings, ledger: Ledger, presence: Presence, send: OpenSend, stop: threading.Event
) -> PartDone:
    template = MessageTemplate.from_stored(send.template, settings)
    part = Part.configured(template, settings, ledger)
    sender = SmtpSender(settings, template.envelope_from)

    def lead_alive() -> bool:
        lease = settings.send_lease
        return retrying(lambda: ledger.lead_present(send.issue, lease), within=lease)

    def nothing(_result: Result) -> None:
        pass

    done = help_send(
        presence,
        send.issue,
        part,
        lambda messages, record: sender.run(messages, record, stop),
        stop,
        nothing,
        keep_going=lead_alive,
    )
    retrying(lambda: ledger.finish_if_done(send.issue), within=settings.send_lease)
    return done


@contextmanager
def _notifications(ledger: Ledger) -> Iterator[Callable[[threading.Event, float], None]]:
    """A wait that ends early when a lead announces a send (PostgreSQL's NOTIFY); on SQLite, or
    while the listening connection is down, a plain wait."""
    if ledger.engine.dialect.name != "postgresql":
        yield lambda stop, seconds: stop.wait(seconds) and None
        return
    import psycopg

    conninfo = ledger.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener: list[psycopg.Connection[tuple[object, ...]]] = []

    def wait(stop: threading.Event, seconds: float) -> None:
        try:
            if not listener:
                conn = psycopg.connect(conninfo, autocommit=True)
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                listener.append(conn)
            until = time.monotonic() + seconds
            while not stop.is_set() and time.monotonic() < until:  # in slices, to see a stop
                for _note in listener[0].notifies(timeout=STOP_SLICE, stop_after=1):
                    return
        except psycopg.Error as exc:
            log.debug("LISTEN: %s; looking again by polling", exc)
            for conn in listener:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
            listener.clear()
            stop.wait(seconds)

    try:
        yield wait
    finally:
        for conn in listener:
            with contextlib.suppress(psycopg.Error):
                conn.close()
