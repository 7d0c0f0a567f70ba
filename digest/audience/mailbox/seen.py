"""The messages of the bounce mailbox that a pass read and left alone (replies, out-of-office
notes, spam), remembered in the state database so the next pass does not download them again:
an IMAP message by its UID within the folder's UIDVALIDITY, a Maildir message by its file's unique
name (the same in new/ and cur/, whatever flags a mail client adds).

What is remembered is forgotten when it no longer applies: a folder whose UIDVALIDITY changed (its
UIDs name other messages now) starts over, a message that is gone from the mailbox is dropped from
memory, and messages judged by older rules (`RULES`, raised when the classifier learns something)
are read again. `digest mailbox --reread` forgets them all."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest.audience.columns import upsert
from digest.state.schema import mailbox_seen, utcnow

RULES = 1
"""The version of what makes a message none of digest's business; raise it when the classifier
(digest.audience.mailbox.classify) learns to act on mail it left alone before."""
BATCH = 500


class Seen:
    """The messages left alone in one mailbox (named by `mailbox`, never with a password) of one
    `generation` (IMAP's UIDVALIDITY; constant for a Maildir)."""

    def __init__(self, engine: Engine, mailbox: str, generation: str) -> None:
        self.engine = engine
        self.mailbox = mailbox[:500]
        self.generation = generation
        self._new: list[str] = []

    def known(self, present: Iterable[str]) -> set[str]:
        """Which of the messages `present` in the mailbox were left alone by an earlier pass;
        what is remembered of any other message (gone, another generation, older rules) is
        forgotten."""
        present = set(present)
        table = mailbox_seen.c
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(mailbox_seen).where(
                    table.mailbox == self.mailbox,
                    sa.or_(table.generation != self.generation, table.rules != RULES),
                )
            )
            remembered = set(
                conn.scalars(sa.select(table.message).where(table.mailbox == self.mailbox))
            )
            gone = list(remembered - present)
            for start in range(0, len(gone), BATCH):
                conn.execute(
                    sa.delete(mailbox_seen).where(
                        table.mailbox == self.mailbox,
                        table.message.in_(gone[start : start + BATCH]),
                    )
                )
        return remembered & present

    def left_alone(self, message: str) -> None:
        """Remember `message` (written in batches; `flush` writes the rest)."""
        self._new.append(message)
        if len(self._new) >= BATCH:
            self.flush()

    def flush(self) -> None:
        new, self._new = self._new, []
        if not new:
            return
        now = utcnow()
        rows = iter(new)
        with self.engine.begin() as conn:
            insert = upsert(conn)(mailbox_seen).on_conflict_do_nothing()
            while batch := list(islice(rows, BATCH)):
                conn.execute(
                    insert,
                    [
                        {
                            "mailbox": self.mailbox,
                            "message": message,
                            "generation": self.generation,
                            "rules": RULES,
                            "seen_at": now,
                        }
                        for message in batch
                    ],
                )

    def forget(self) -> int:
        """Forget every message of this mailbox, so the next pass reads them all again."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.delete(mailbox_seen).where(mailbox_seen.c.mailbox == self.mailbox)
            ).rowcount
