"""Reading the mailbox and marking what was handled, in a Maildir and over IMAP against a real
Dovecot: nothing handled twice, nothing left alone touched, passwords never shown."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from digest.audience.mailbox.folders import KEYWORD, MAX_MESSAGE_BYTES, Letter, Mailbox
from digest.audience.mailbox.imap import ImapMailbox
from digest.audience.mailbox.location import ImapLocation, MaildirLocation, parse_location
from digest.audience.mailbox.maildir import MaildirMailbox
from digest.config import load_settings
from digest.errors import ConfigError, MailboxError
from tests.support.imap_server import ImapAccount, ImapServer
from tests.support.smtp_server import free_port


def _message(number: int) -> bytes:
    return (
        f"From: someone@example.org\r\nTo: bounces@example.com\r\nSubject: message {number}\r\n"
        f"Message-ID: <m{number}@example.org>\r\n\r\nbody {number}\r\n"
    ).encode()


def pending(box: Mailbox) -> Iterator[Letter]:
    """Every message not handled yet, as a pass reads them."""
    return box.fetch(box.unhandled())


# --- DIGEST_MAILBOX_URL ---


def test_an_imap_url_is_read_with_its_password_decoded_and_never_shown() -> None:
    location = parse_location(
        "imaps://bounce%40example.com:p%40ss%3Aw%2Frd@mail.example.com/Bounces"
    )
    assert isinstance(location, ImapLocation)
    assert (location.host, location.port, location.folder) == ("mail.example.com", 993, "Bounces")
    assert location.username == "bounce@example.com"
    assert location.password.get_secret_value() == "p@ss:w/rd"
    assert location.implicit_tls
    assert "p@ss" not in location.shown and "p@ss" not in repr(location)
    starttls = parse_location("imap://u:pw@127.0.0.1:1143")
    assert isinstance(starttls, ImapLocation)
    assert (starttls.port, starttls.folder, starttls.implicit_tls) == (1143, "INBOX", False)
    assert parse_location("/var/mail/bounces") == MaildirLocation(Path("/var/mail/bounces"))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("pop3://u:secret@host/", "expected imaps://, imap:// or a Maildir path"),
        ("imaps://host/INBOX", "with user and password"),
        ("imaps://u@host/INBOX", "with user and password"),
        ("imaps://u:secret@:993/INBOX", "with a host"),
        ("imaps://u:secret@host:99999/INBOX", "port"),
        ("imaps://u:secret@host/INBOX?x=1", "?query"),
    ],
)
def test_a_bad_url_is_one_line_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_location(url)
    assert problem in str(caught.value)
    assert "secret" not in str(caught.value)


# --- Maildir ---


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for number in range(3):
        box.add(_message(number))
    return folder


def test_a_maildir_message_handled_is_marked_and_never_read_again(maildir: Path) -> None:
    with MaildirMailbox(maildir) as box:
        letters = list(pending(box))
        assert sorted(letter.raw for letter in letters) == [_message(n) for n in range(3)]
        box.mark_handled(letters[0])
    assert (maildir / "dovecot-keywords").read_text() == f"0 {KEYWORD}\n"
    with MaildirMailbox(maildir) as box:
        left = list(pending(box))
    assert [letter.raw for letter in left] == [letter.raw for letter in letters[1:]]
    handled = [path for path in (maildir / "cur").iterdir() if path.name.endswith(":2,a")]
    assert [path.read_bytes() for path in handled] == [letters[0].raw]
    untouched = list((maildir / "new").iterdir())
    assert len(untouched) == 2


def test_a_maildir_keyword_takes_the_next_free_letter(maildir: Path) -> None:
    (maildir / "dovecot-keywords").write_text("0 $Junk\n1 NonJunk\n")
    with MaildirMailbox(maildir) as box:
        box.mark_handled(next(pending(box)))
    assert (maildir / "dovecot-keywords").read_text() == f"0 $Junk\n1 NonJunk\n2 {KEYWORD}\n"
    assert [path.name[-4:] for path in (maildir / "cur").iterdir()] == [":2,c"]


def test_a_maildir_message_handled_moves_to_the_done_folder(maildir: Path) -> None:
    with MaildirMailbox(maildir, done_folder="Done") as box:
        letters = list(pending(box))
        for letter in letters[:2]:
            box.mark_handled(letter)
    done = mailbox.Maildir(maildir, create=False).get_folder("Done")
    assert sorted(done.get_bytes(key) for key in done.iterkeys()) == sorted(
        letter.raw for letter in letters[:2]
    )
    with MaildirMailbox(maildir, done_folder="Done") as box:
        assert [letter.raw for letter in pending(box)] == [letters[2].raw]


def test_a_message_gone_before_it_is_marked_is_no_error(maildir: Path) -> None:
    with MaildirMailbox(maildir) as box:
        letter = next(pending(box))
        next(maildir.glob(f"*/{letter.key}*")).unlink()
        box.mark_handled(letter)


def test_a_huge_message_is_not_read(maildir: Path) -> None:
    mailbox.Maildir(maildir).add(b"Subject: big\r\n\r\n" + b"x" * MAX_MESSAGE_BYTES)
    with MaildirMailbox(maildir) as box:
        sizes = sorted(len(letter.raw) if letter.raw else 0 for letter in pending(box))
    assert sizes[0] == 0 and len(sizes) == 4


def test_a_folder_that_is_no_maildir_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MailboxError, match="not a Maildir"), MaildirMailbox(tmp_path):
        pass


def test_dovecot_sees_the_keyword_a_maildir_pass_set(imap_account: ImapAccount) -> None:
    imap_account.append(_message(1), _message(2))
    maildir = imap_account.server.root / "mail" / imap_account.username
    with MaildirMailbox(maildir) as box:
        handled = next(letter for letter in pending(box) if b"message 1" in (letter.raw or b""))
        box.mark_handled(handled)
    flags = {raw: flags for flags, raw in imap_account.messages()}
    assert KEYWORD.encode() in flags[_message(1)]
    assert KEYWORD.encode() not in flags[_message(2)]


# --- IMAP ---


def _imap(
    account: ImapAccount, *, starttls: bool = False, folder: str = "INBOX", done: str = ""
) -> ImapMailbox:
    location = parse_location(account.url(folder, starttls=starttls))
    assert isinstance(location, ImapLocation)
    return ImapMailbox(location, ca_file=account.server.ca_file, done_folder=done)


@pytest.mark.parametrize("starttls", [False, True], ids=["imaps", "starttls"])
def test_an_imap_message_handled_gets_the_keyword_and_is_never_read_again(
    imap_account: ImapAccount, starttls: bool
) -> None:
    imap_account.append(*(_message(n) for n in range(3)))
    with _imap(imap_account, starttls=starttls) as box:
        letters = list(pending(box))
        assert [letter.raw for letter in letters] == [_message(n) for n in range(3)]
        box.mark_handled(letters[1])
    with _imap(imap_account, starttls=starttls) as box:
        assert [letter.raw for letter in pending(box)] == [_message(0), _message(2)]
    flags = [flags for flags, _ in imap_account.messages()]
    assert KEYWORD.encode() in flags[1]
    assert all(b"\\Seen" not in each and KEYWORD.encode() not in each for each in flags[::2])


def test_an_imap_message_handled_moves_to_the_done_folder(imap_account: ImapAccount) -> None:
    imap_account.append(*(_message(n) for n in range(3)))
    with _imap(imap_account, done="Done") as box:
        letters = list(pending(box))
        box.mark_handled(letters[0])
        box.mark_handled(letters[2])
    assert [raw for _, raw in imap_account.messages()] == [_message(1)]
    assert [raw for _, raw in imap_account.messages("Done")] == [_message(0), _message(2)]


def test_a_message_flagged_but_not_moved_is_moved_by_the_next_pass(
    imap_account: ImapAccount,
) -> None:
    imap_account.append(_message(0), _message(1))
    with _imap(imap_account) as box:
        box.mark_handled(next(pending(box)))
    with _imap(imap_account, done="Done") as box:
        assert [letter.raw for letter in pending(box)] == [_message(1)]
    assert [raw for _, raw in imap_account.messages("Done")] == [_message(0)]


def test_an_untrusted_certificate_is_refused(imap_account: ImapAccount, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    location = parse_location(imap_account.url())
    assert isinstance(location, ImapLocation)
    for starttls in (False, True):
        location = parse_location(imap_account.url(starttls=starttls))
        assert isinstance(location, ImapLocation)
        with (
            pytest.raises(MailboxError, match="certificate not trusted"),
            ImapMailbox(location, ca_file=other_ca),
        ):
            pass


def test_a_wrong_password_is_one_line_that_never_shows_a_password(
    imap_account: ImapAccount,
) -> None:
    url = imap_account.url().replace("pw%2F", "nope%2F")
    location = parse_location(url)
    assert isinstance(location, ImapLocation)
    with (
        pytest.raises(MailboxError) as caught,
        ImapMailbox(location, ca_file=imap_account.server.ca_file),
    ):
        pass
    message = str(caught.value)
    assert message == f"mailbox {location.shown}: login as {imap_account.username!r} refused"
    assert "nope" not in message and "odd" not in message


def test_a_missing_folder_and_a_closed_port_are_one_line(
    imap_account: ImapAccount, imap_server: ImapServer
) -> None:
    with (
        pytest.raises(MailboxError, match="no folder 'Nowhere'"),
        _imap(imap_account, folder="Nowhere"),
    ):
        pass
    port = free_port()
    location = parse_location(f"imaps://u:secret@127.0.0.1:{port}/INBOX")
    assert isinstance(location, ImapLocation)
    with (
        pytest.raises(MailboxError, match="cannot connect") as caught,
        ImapMailbox(location, ca_file=imap_server.ca_file),
    ):
        pass
    assert "secret" not in str(caught.value)


def test_a_bad_ca_file_is_a_config_error(tmp_path: Path) -> None:
    location = parse_location("imaps://u:secret@127.0.0.1/INBOX")
    assert isinstance(location, ImapLocation)
    with pytest.raises(ConfigError, match="DIGEST_MAILBOX_CA_FILE"):
        ImapMailbox(location, ca_file=tmp_path / "missing.pem")


def test_letters_are_plain_values() -> None:
    assert Letter("1", b"x") == Letter("1", b"x")


def test_mailbox_settings_are_checked_at_load_and_never_echo_a_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(mailbox_url="imaps://u:hunter2@mail.example.com/INBOX?x=1")
    assert str(caught.value).startswith("DIGEST_MAILBOX_URL: the URL may not have")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="DIGEST_BOUNCE_ADDRESS: the part before @ may have"):
        load_settings(bounce_address="b" * 40 + "@example.com")
    with pytest.raises(ConfigError, match="DIGEST_MAILBOX_DONE_FOLDER"):
        load_settings(mailbox_done_folder="Done\r\nA001 DELETE INBOX")
    settings = load_settings(mailbox_interval="15m", mailbox_url="/var/mail/bounces")
    assert settings.mailbox_interval == 900
    assert "/var/mail" not in repr(settings)
