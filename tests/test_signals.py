"""Signal handlers only record the signal: the printing, logging and stopping happen outside them.

A handler runs in the main thread between any two bytecodes (in the middle of an import, a write, a
lock), so a send stopped by SIGTERM once crashed inside its handler with a rich import half done."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from digest.commands.send import _stop_on_signals
from digest.config import load_settings
from digest.schedule.process import Scheduler
from digest.schedule.run import stop_on_signals
from digest.signals import on_stop_signals


@contextmanager
def _scheduler_stopping(workdir: Path) -> Iterator[None]:
    scheduler = Scheduler(load_settings(issues_dir=workdir / "issues"))
    try:
        with scheduler.stopping_on_signals():
            yield
    finally:
        scheduler.engine.dispose()


SITES: dict[str, Callable[[Path], AbstractContextManager[Any]]] = {
    "digest send": lambda _workdir: _stop_on_signals(),
    "a scheduled run": lambda _workdir: stop_on_signals(pass_on=False),
    "digest schedule": _scheduler_stopping,
}


def _calls_made_by(handler: Callable[[int, FrameType | None], Any]) -> list[str]:
    """Every function (Python or C) the handler calls, as the profiler sees them."""
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_qualname)
        elif event == "c_call":
            calls.append(f"C {arg.__qualname__}")

    sys.setprofile(profile)
    try:
        handler(signal.SIGTERM, None)
    finally:
        sys.setprofile(None)
    return [call for call in calls if call != "C setprofile"]


@pytest.mark.parametrize("site", SITES)
def test_the_signal_handler_only_records_the_signal(
    site: str, isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SITES[site](isolated_environment):
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        calls = _calls_made_by(handler)
    assert calls == ["on_stop_signals.<locals>.handle", "C list.append"]


def test_the_work_is_done_on_another_thread_once_per_signal() -> None:
    acted: list[tuple[int, str]] = []
    done = threading.Event()
    # Not always default_int_handler: a shell starts background jobs with SIGINT ignored.
    before = signal.getsignal(signal.SIGINT)

    def act(signum: int) -> None:
        acted.append((signum, threading.current_thread().name))
        if len(acted) == 2:
            done.set()

    with on_stop_signals(act) as caught:
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
        assert done.wait(5)
    assert caught == [signal.SIGTERM, signal.SIGINT]
    assert acted == [(signal.SIGTERM, "digest-signals"), (signal.SIGINT, "digest-signals")]
    assert signal.getsignal(signal.SIGINT) is before


def test_digest_send_says_it_is_stopping_and_sets_the_stop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _stop_on_signals() as stop:
        signal.raise_signal(signal.SIGTERM)
        assert stop.wait(5)
    assert "SIGTERM: stopping after the messages in flight" in capsys.readouterr().err
