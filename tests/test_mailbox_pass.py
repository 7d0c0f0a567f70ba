"""One pass of `digest mailbox`, on SQLite and PostgreSQL, from a Maildir and through Dovecot: each
real bounce turns the address it names bounced (or counts a temporary failure), a complaint
report makes it complained, an unsubscribe email unsubscribes, and nothing is handled twice."""

from __future__ import annotations

import datetime as dt
import mailbox
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from digest.audience.mailbox.folders import KEYWORD
from digest.audience.mailbox.run import read_mailbox
from digest.audience.status import ACTIVE, BOUNCED, COMPLAINED, UNSUBSCRIBED
from digest.audience.store import SubscriberStore
from digest.config import Settings, load_settings
from digest.state.schema import bounce_events
from digest.tokens import TokenSigner
from tests.support.imap_server import ImapAccount
from tests.support.mailbox_data import BOUNCES, P, T, fixture, real_bounce, real_bounce_names

SECRET = "test-secret-key-of-some-length"
NOW = dt.datetime(2026, 11, 26, 7, 0)
READER = "reader@example.org"


def _settings(url: str | Path, **extra: object) -> Settings:
    return load_settings(mailbox_url=str(url), secret_key=SECRET, **extra)


def _maildir(folder: Path, *messages: bytes) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for message in messages:
        box.add(message)
    return folder


def _subscribe(engine: Engine, *emails: str) -> SubscriberStore:
    store = SubscriberStore(engine)
    for email in emails:
        store.add(email)
    return store


def _status(store: SubscriberStore, email: str) -> str | None:
    record = store.get(email)
    return record.status.value if record is not None else None


def _event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(bounce_events)) or 0


@pytest.fixture(params=["maildir", "imap"])
def mailbox_with(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Settings]:
    """Put messages in a fresh mailbox, a Maildir or an IMAP folder on Dovecot; the settings
    that read it."""

    def fill(*messages: bytes, **extra: object) -> Settings:
        if request.param == "maildir":
            return _settings(_maildir(tmp_path / "Maildir", *messages), **extra)
        account: ImapAccount = request.getfixturevalue("imap_account")
        account.append(*messages)
        return _settings(account.url(), mailbox_ca_file=account.server.ca_file, **extra)

    return fill


def test_every_real_bounce_gives_the_address_it_names_the_right_status(
    engine: Engine, mailbox_with: Callable[..., Settings]
) -> None:
    names = real_bounce_names()
    settings = mailbox_with(*(real_bounce(name) for name in names))
    named = {address for name in names for address in BOUNCES[name]}
    store = _subscribe(engine, *named)

    summary = read_mailbox(settings, engine, now=NOW)

    nobody = [name for name in names if not BOUNCES[name]]
    assert summary.read == len(names)
    assert summary.left_alone == len(nobody) == 2
    permanent = {a for name in names for a, kind in BOUNCES[name].items() if kind == P}
    temporary = {a for name in names for a, kind in BOUNCES[name].items() if kind == T}
    for address in named:
        expected = BOUNCED if address in permanent else ACTIVE
        assert _status(store, address) == expected, address
    assert summary.bounced == len(permanent)
    assert summary.temporary == len(temporary)
    assert summary.not_subscribers == 0

    again = read_mailbox(settings, engine, now=NOW)
    assert (again.read, again.left_before, again.handled) == (0, 2, 0)


def test_temporary_failures_on_enough_days_within_30_make_an_address_bounced(
    engine: Engine, tmp_path: Path
) -> None:
    address = "pkocmid@atlas.cz"  # dsn_05.txt: delivery delayed
    store = _subscribe(engine, address)
    folder = tmp_path / "Maildir"
    settings = _settings(folder, soft_bounce_limit=3)

    def delay(number: int) -> bytes:
        return f"X-Copy: {number}\r\n".encode() + real_bounce("dsn_05.txt")

    days = [
        NOW,
        NOW + dt.timedelta(hours=5),
        NOW + dt.timedelta(days=40),
        NOW + dt.timedelta(days=45),
    ]
    for number, moment in enumerate(days):
        _maildir(folder, delay(number))
        read_mailbox(settings, engine, now=moment)
        assert _status(store, address) == ACTIVE, moment  # two the same day, one 40 days on
    _maildir(folder, delay(9))
    summary = read_mailbox(settings, engine, now=NOW + dt.timedelta(days=50))
    assert summary.bounced == 1
    assert _status(store, address) == BOUNCED
    assert "temporary" in (store.get(address).reason or "")  # type: ignore[union-attr]


def test_a_pass_cut_short_before_marking_changes_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    store = _subscribe(engine, "pkocmid@atlas.cz", "JimmyMcEgypt@go.com")
    folder = _maildir(tmp_path / "Maildir", real_bounce("dsn_05.txt"), real_bounce("dsn_01.txt"))
    settings = _settings(folder, soft_bounce_limit=2)
    read_mailbox(settings, engine, now=NOW)
    # As if the pass had died after storing the events but before marking the messages:
    for path in (folder / "cur").iterdir():
        path.rename(folder / "new" / path.name.partition(":")[0])
    summary = read_mailbox(settings, engine, now=NOW + dt.timedelta(days=1))
    assert summary.handled == 2
    assert (summary.temporary, summary.permanent, summary.bounced) == (0, 0, 0)
    assert _event_count(engine) == 2
    assert _status(store, "pkocmid@atlas.cz") == ACTIVE  # one day of delay, not two


def test_a_bounce_for_an_address_that_is_no_subscriber_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    store = _subscribe(engine, READER)
    folder = _maildir(tmp_path / "Maildir", real_bounce("dsn_01.txt"))
    summary = read_mailbox(_settings(folder), engine, now=NOW)
    assert (summary.handled, summary.not_subscribers, summary.bounced) == (1, 1, 0)
    assert store.get("JimmyMcEgypt@go.com") is None
    assert _status(store, READER) == ACTIVE
    assert _event_count(engine) == 0
    assert read_mailbox(_settings(folder), engine, now=NOW).read == 0


def _fields(address: str = READER) -> dict[str, str]:
    token = TokenSigner(SECRET).sign(address)
    return {"address": address, "token": token, "return_path": "digest@example.com", "verp": ""}


def test_complaints_unsubscribe_emails_and_other_mail_through_dovecot(
    engine: Engine, imap_account: ImapAccount
) -> None:
    others = ("minimal@example.net", "leaver@example.org", "stays@example.org")
    store = _subscribe(engine, READER, *others)
    imap_account.append(
        fixture("arf_full.eml", **_fields()),
        fixture("arf_minimal.eml", **_fields("minimal@example.net")),
        fixture("arf_not_spam.eml", **_fields("stays@example.org")),
        fixture("unsubscribe_subject.eml", **_fields("leaver@example.org")),
        fixture("reply_quoting_footer.eml", **_fields("stays@example.org")),
        fixture("question.eml", **_fields()),
        real_bounce("dsn_01.txt"),
    )
    settings = _settings(
        imap_account.url(starttls=True), mailbox_ca_file=imap_account.server.ca_file
    )

    summary = read_mailbox(settings, engine, now=NOW)

    assert (summary.read, summary.handled, summary.left_alone) == (7, 4, 3)
    assert (summary.complaints, summary.complained, summary.unsubscribes) == (2, 2, 1)
    assert summary.not_subscribers == 1
    assert _status(store, READER) == COMPLAINED
    assert _status(store, "minimal@example.net") == COMPLAINED
    assert _status(store, "leaver@example.org") == UNSUBSCRIBED
    assert _status(store, "stays@example.org") == ACTIVE
    flags = [flags for flags, _ in imap_account.messages()]
    handled = [KEYWORD.encode() in each for each in flags]
    assert handled == [True, True, False, True, False, False, True]
    assert not any(b"\\Seen" in each for each in flags)
    again = read_mailbox(settings, engine, now=NOW)
    assert (again.read, again.left_before) == (0, 3)


def test_handled_messages_move_to_the_done_folder(
    engine: Engine, imap_account: ImapAccount
) -> None:
    _subscribe(engine, "JimmyMcEgypt@go.com")
    imap_account.append(real_bounce("dsn_01.txt"), fixture("question.eml", **_fields()))
    settings = _settings(
        imap_account.url(),
        mailbox_ca_file=imap_account.server.ca_file,
        mailbox_done_folder="Processed",
    )
    summary = read_mailbox(settings, engine, now=NOW)
    assert (summary.handled, summary.bounced) == (1, 1)
    assert [raw for _, raw in imap_account.messages("Processed")] == [
        real_bounce("dsn_01.txt").replace(b"\n", b"\r\n")
    ]
    assert len(imap_account.messages()) == 1


def test_a_pass_asked_to_stop_reads_no_further(engine: Engine, tmp_path: Path) -> None:
    import threading

    folder = _maildir(tmp_path / "Maildir", real_bounce("dsn_01.txt"))
    stop = threading.Event()
    stop.set()
    assert read_mailbox(_settings(folder), engine, now=NOW, stop=stop).read == 0
