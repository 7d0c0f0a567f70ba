"""The mailbox as a pass sees it: the messages not handled yet, and a way to mark one handled
(flagged with a keyword, or moved to DIGEST_MAILBOX_DONE_FOLDER) so no pass handles it again.
A message left alone is neither marked nor moved, nor even marked as read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

KEYWORD = "$DigestHandled"
"""The IMAP keyword (and Dovecot Maildir keyword) of a message digest has handled."""
MAX_MESSAGE_BYTES = 10_000_000
"""A bounce or report carrying more than this is read by nobody's detector: left alone."""
TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Letter:
    """One message not handled yet, named by `key` (see `Mailbox.unhandled`); `raw` is None when
    it is larger than MAX_MESSAGE_BYTES."""

    key: str
    raw: bytes | None


class Mailbox(Protocol):
    """What a pass needs from an IMAP folder or a Maildir; used as a context manager."""

    shown: str
    generation: str
    """What keys are valid within: IMAP's UIDVALIDITY (known once connected); a Maildir's
    unique names never change."""

    def __enter__(self) -> Mailbox: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def unhandled(self) -> list[str]:
        """The keys of the messages not marked handled, oldest first: IMAP UIDs, or the unique
        names of Maildir files (which stay the same in new/ and cur/)."""
        ...

    def fetch(self, keys: list[str]) -> Iterator[Letter]:
        """The messages of `keys` (from `unhandled`) that are still there, in that order."""
        ...

    def mark_handled(self, letter: Letter) -> None: ...
