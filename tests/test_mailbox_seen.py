"""A pass of `digest mailbox` does not download again what earlier passes left alone, on SQLite and
PostgreSQL, from a Maildir and through a real Dovecot: IMAP messages by UID within the folder's
UIDVALIDITY (a new one starts over), Maildir messages by their file's unique name (a mail client
moving one from new/ to cur/ changes nothing)."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest.audience.mailbox import seen
from digest.audience.mailbox.run import read_mailbox
from digest.audience.status import BOUNCED
from digest.audience.store import SubscriberStore
from digest.config import Settings, load_settings
from digest.state.schema import mailbox_seen
from tests.support.imap_server import ImapAccount
from tests.support.mailbox_data import real_bounce

SECRET = "test-secret-key-of-some-length"
BOUNCE = "dsn_01.txt"
BOUNCED_ADDRESS = "JimmyMcEgypt@go.com"


def reply(number: int) -> bytes:
    return (
        f"From: reader{number}@example.org\r\nTo: news@example.com\r\nSubject: Re: the issue\r\n"
        f"Message-ID: <reply{number}@example.org>\r\n\r\nThanks for issue {number}!\r\n"
    ).encode()


def settings_for(url: str | Path, **extra: object) -> Settings:
    return load_settings(mailbox_url=str(url), secret_key=SECRET, **extra)


def remembered(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(mailbox_seen)) or 0


def test_a_maildir_pass_reads_only_what_no_pass_left_alone(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    keys = [box.add(reply(n)) for n in range(3)]
    settings = settings_for(folder)
    first = read_mailbox(settings, engine)
    assert (first.read, first.left_alone, first.left_before) == (3, 3, 0)
    assert remembered(engine) == 3

    # A mail client reads one: it moves from new/ to cur/ and gets the Seen flag.
    message = box.get_message(keys[0])
    message.set_subdir("cur")
    message.add_flag("S")
    box[keys[0]] = message
    assert any(name.endswith(":2,S") for name in os.listdir(folder / "cur"))
    box.remove(keys[1])
    SubscriberStore(engine).add(BOUNCED_ADDRESS)
    box.add(real_bounce(BOUNCE))

    second = read_mailbox(settings, engine)
    assert (second.read, second.handled, second.left_before) == (1, 1, 2)
    assert SubscriberStore(engine).get(BOUNCED_ADDRESS).status == BOUNCED  # type: ignore[union-attr]
    assert remembered(engine) == 2  # the deleted reply is forgotten

    third = read_mailbox(settings, engine)
    assert (third.read, third.left_before) == (0, 2)
    again = read_mailbox(settings, engine, reread=True)
    assert (again.read, again.left_alone, again.left_before) == (2, 2, 0)


def test_messages_judged_by_older_rules_are_read_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(reply(1))
    settings = settings_for(folder)
    assert read_mailbox(settings, engine).left_alone == 1
    assert read_mailbox(settings, engine).read == 0
    monkeypatch.setattr(seen, "RULES", seen.RULES + 1)
    assert read_mailbox(settings, engine).read == 1
    assert read_mailbox(settings, engine).read == 0


def test_an_imap_pass_reads_only_what_no_pass_left_alone_until_uidvalidity_changes(
    engine: Engine, imap_account: ImapAccount
) -> None:
    folder = "Bounces"
    client = imap_account.client()
    try:
        client.create_folder(folder)
        validity = client.select_folder(folder)[b"UIDVALIDITY"]
    finally:
        client.logout()
    imap_account.append(reply(1), reply(2), folder=folder)
    settings = settings_for(imap_account.url(folder), mailbox_ca_file=imap_account.server.ca_file)

    first = read_mailbox(settings, engine)
    assert (first.read, first.left_alone) == (2, 2)
    SubscriberStore(engine).add(BOUNCED_ADDRESS)
    imap_account.append(real_bounce(BOUNCE), folder=folder)
    second = read_mailbox(settings, engine)
    assert (second.read, second.handled, second.left_before) == (1, 1, 2)
    assert [flags for flags, _ in imap_account.messages(folder)][:2] == [(), ()]

    # The folder is made anew: its UIDs 1 and 2 are other messages now, under a new UIDVALIDITY.
    client = imap_account.client()
    try:
        client.delete_folder(folder)
        client.create_folder(folder)
        assert client.select_folder(folder)[b"UIDVALIDITY"] != validity
    finally:
        client.logout()
    imap_account.append(reply(3), reply(4), folder=folder)
    third = read_mailbox(settings, engine)
    assert (third.read, third.left_alone, third.left_before) == (2, 2, 0)
    assert remembered(engine) == 2
