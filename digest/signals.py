"""SIGTERM and SIGINT, handled the one safe way: the handler records the signal and does nothing
else.

A Python signal handler runs in the main thread between any two bytecodes: in the middle of an
import, of a write to stderr, or while the main thread holds a lock. Printing, logging, importing
or even setting a `threading.Event` from there can crash (a module half imported) or deadlock (a
lock taken twice). So the handler only appends the signal's number to a list; the interpreter
also writes it to a pipe (`signal.set_wakeup_fd`), which wakes a watcher thread that does the
work (print, log, ask the send to stop) as ordinary code.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_WATCHER_EXIT = 0
"""Written to the pipe to end the watcher: no signal has the number 0."""


@contextmanager
def on_stop_signals(act: Callable[[int], None]) -> Iterator[list[int]]:
    """While inside, SIGTERM and SIGINT call `act(signum)` on a watcher thread, once per signal;
    yields the list of signals caught (filled by the handler, in order).

    Off the main thread (a scheduler run by a test in a thread) signals cannot be caught, and
    nothing changes."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def handle(signum: int, _frame: object) -> None:
        caught.append(signum)

    def watch() -> None:
        while True:
            for number in os.read(read_end, 64):
                if number == _WATCHER_EXIT:
                    return
                if number in STOP_SIGNALS:
                    act(number)

    watcher = threading.Thread(target=watch, name="digest-signals", daemon=True)
    watcher.start()
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        os.write(write_end, bytes([_WATCHER_EXIT]))
        watcher.join()
        os.close(read_end)
        os.close(write_end)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name
