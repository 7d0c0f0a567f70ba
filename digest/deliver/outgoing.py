"""What crosses the delivery boundary: a finished message and its envelope going to a sender, and
the server's last word on it coming back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Lease(Protocol):
    """Whether a claimed message may still go to the server (see digest/state/claims.py)."""

    def holds(self, key: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One finished message and its envelope: all a sender learns about a subscriber."""

    key: int
    recipient: str
    message: bytes
    message_id: str
    envelope_from: str = ""
    """This message's own envelope sender (a VERP address); empty: the sender's, one per run."""
    lease: Lease | None = None
    """Asked just before each try; a message whose lease may have lapsed is dropped unreported,
    and its row goes back to the senders sharing the issue."""


@dataclass(frozen=True, slots=True)
class Result:
    """The server's last word on one message; `interrupted` when a stop cut its transaction,
    which leaves it to send again (its reply says whether the relay may have it)."""

    outgoing: Outgoing
    accepted: bool
    attempts: int
    reply: str
    interrupted: bool = False


Report = Callable[[Result], Callable[[], None] | None]
"""Called from sending threads. Returns None once the result is durably recorded, or a function
that waits until it is, which the connection calls before it hands over its next message (the
"." that ends its data): so it may send the next message's commands and body while the result
is being recorded, and still never has more than one message whose acceptance the ledger may not
know of."""
