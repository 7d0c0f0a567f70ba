"""VERP from end to end, on SQLite and PostgreSQL: `digest send` gives each message its own signed
envelope sender, the bounces and complaints that come back to it (one mangled beyond reading)
name their subscribers and their issue, `digest mailbox` stops mail to them, and `digest status`
counts them per issue."""

from __future__ import annotations

import datetime as dt
import mailbox
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from digest.audience.mailbox.verp import Verp
from digest.audience.signups import SignUps
from digest.audience.status import ACTIVE, BOUNCED, COMPLAINED, Consent
from digest.audience.store import SubscriberStore
from digest.cli import app
from digest.config import load_settings
from digest.errors import MailboxError
from digest.schedule.process import Scheduler
from digest.state.engine import open_engine
from digest.state.schema import bounce_events, deliveries
from digest.tokens import TokenSigner
from tests.support.imap_server import PASSWORD, ImapAccount
from tests.support.issues import publish_issue
from tests.support.mailbox_data import fixture, real_bounce
from tests.support.scheduler import WAIT, running
from tests.support.smtp_server import SmtpServer

SECRET = "test-secret-key-of-some-length"
READERS = ("ada@example.com", "bob@example.org", "cy@example.net")


@pytest.fixture
def issue_folder(isolated_environment: Path) -> Path:
    """A published issue in ./issues, as `digest build` leaves it."""
    return publish_issue(isolated_environment / "issues")


def _invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_bounces_and_complaints_come_back_to_their_subscriber_and_issue(
    issue_folder: Path, database_url: str, tmp_path: Path
) -> None:
    subscribers = tmp_path / "subscribers.csv"
    subscribers.write_text("email\n" + "\n".join(READERS) + "\n", encoding="utf-8")
    engine = open_engine(database_url)
    store = SubscriberStore(engine)
    for reader in READERS:
        store.add(reader)
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    with SmtpServer() as server:
        env = {
            "DIGEST_STATE_URL": database_url,
            "DIGEST_SMTP_HOST": server.host,
            "DIGEST_SMTP_PORT": str(server.port),
            "DIGEST_SMTP_SECURITY": "none",
            "DIGEST_SECRET_KEY": SECRET,
            "DIGEST_SUBSCRIBERS": str(subscribers),
            "DIGEST_BOUNCE_ADDRESS": "bounces@example.com",
            "DIGEST_MAILBOX_URL": str(folder),
            "COLUMNS": "200",
        }
        _invoke(env, "send")
    sent = {message.rcpt_tos[0]: message for message in server.received}
    assert set(sent) == set(READERS)

    verp = Verp("bounces@example.com", [SECRET])
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.select(deliveries.c.id, deliveries.c.email)).all())
    for reader, message in sent.items():
        local = message.mail_from.rpartition("@")[0]
        assert local.startswith("bounces+") and len(local) <= 64
        assert rows[verp.delivery(message.mail_from)] == reader  # type: ignore[index]
        assert message.message["From"] == "The Daily Digest <digest@example.com>"

    ada, bob, cy = (sent[reader] for reader in READERS)
    # A DSN that names someone else (ada forwards her mail), a report mangled beyond reading,
    # and a provider's complaint report carrying cy's message.
    box.add(f"Delivered-To: {ada.mail_from}\r\n".encode() + real_bounce("dsn_01.txt"))
    box.add(f"To: {bob.mail_from}\r\n".encode() + real_bounce("bounce_01.txt"))
    complaint = fixture(
        "arf_full.eml",
        address="cy@example.net",
        token=TokenSigner(SECRET).sign("cy@example.net"),
        return_path=cy.mail_from,
        verp="",
    ).replace(
        b"<20261126.0f3a9c1e2b7d4a5f8e6c0b1d2a3f4e5d@example.com>",
        cy.message["Message-ID"].encode(),
    )
    box.add(complaint)

    line = _invoke(env, "mailbox")
    assert "3 read, 3 handled, 0 left alone" in line
    assert "Bounces: 1 permanent, 1 temporary; complaints: 1; unsubscribes: 0." in line
    assert (store.get(READERS[0]).status, store.get(READERS[1]).status) == (BOUNCED, ACTIVE)  # type: ignore[union-attr]
    assert store.get(READERS[2]).status == COMPLAINED  # type: ignore[union-attr]
    with engine.connect() as conn:
        issues = set(conn.scalars(sa.select(bounce_events.c.issue)))
    assert issues == {"2026-11-26"}

    status = _invoke(env, "status")
    assert "2026-11-26: 1 permanent bounces, 1 temporary, 1 complaints" in status
    assert _invoke(env, "mailbox").startswith(f"Mailbox {folder}: 0 read")
    engine.dispose()


def test_digest_schedule_reads_the_mailbox_at_start_and_every_interval(
    isolated_environment: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(real_bounce("dsn_01.txt"))
    now = dt.datetime.now(dt.UTC)
    settings = load_settings(
        issues_dir=isolated_environment / "issues",
        secret_key=SECRET,
        schedule=f"0 {(now.hour + 12) % 24} * * *",
        mailbox_url=str(folder),
        mailbox_interval="1s",
    )
    engine = open_engine(f"sqlite:///{isolated_environment / 'state.db'}")
    store = SubscriberStore(engine)
    store.add("JimmyMcEgypt@go.com")
    store.add("joem@example.com")
    scheduler = Scheduler(settings)
    with running(scheduler):
        _wait_for(lambda: store.get("JimmyMcEgypt@go.com").status == BOUNCED)  # type: ignore[union-attr]
        box.add(real_bounce("dsn_11.txt"))  # read by the next pass, a second later
        _wait_for(lambda: store.get("joem@example.com").status == BOUNCED)  # type: ignore[union-attr]
    engine.dispose()


def test_digest_schedule_forgets_unconfirmed_sign_ups_at_start(
    isolated_environment: Path,
) -> None:
    now = dt.datetime.now(dt.UTC)
    settings = load_settings(
        issues_dir=isolated_environment / "issues",
        schedule=f"0 {(now.hour + 12) % 24} * * *",
        unconfirmed_days=3,
    )
    engine = open_engine(f"sqlite:///{isolated_environment / 'state.db'}")
    store = SubscriberStore(engine)
    for email, days in (("stale@example.org", 4), ("fresh@example.org", 2)):
        at = now.replace(tzinfo=None) - dt.timedelta(days=days)
        proof = Consent(at=at, ip="192.0.2.7", user_agent="UA", url="https://s/", text="Yes")
        SignUps(engine).request_confirmation(
            email, name="", consent=proof, resend_after=dt.timedelta(0)
        )
    with running(Scheduler(settings)):
        _wait_for(lambda: store.get("stale@example.org") is None)
    assert store.get("fresh@example.org") is not None
    engine.dispose()


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the mailbox job did not run"
        time.sleep(0.1)


def test_the_mailbox_command_never_shows_the_password(
    isolated_environment: Path, imap_account: ImapAccount
) -> None:
    imap_account.append(real_bounce("dsn_01.txt"))
    env = {
        "DIGEST_STATE_URL": f"sqlite:///{isolated_environment / 'state.db'}",
        "DIGEST_SECRET_KEY": SECRET,
        "DIGEST_MAILBOX_URL": imap_account.url(),
        "DIGEST_MAILBOX_CA_FILE": str(imap_account.server.ca_file),
    }
    secrets = (PASSWORD, quote(PASSWORD, safe=""))
    result = CliRunner().invoke(app, ["-v", "mailbox"], env=env)
    assert result.exit_code == 0, result.output
    port = imap_account.server.imaps_port
    assert (
        f"Mailbox imaps://{imap_account.username}@127.0.0.1:{port}/INBOX: 1 read" in result.output
    )
    assert "LOGIN **REDACTED**" in result.output  # IMAP traffic is logged with -v, never the login
    assert not any(secret in result.output for secret in secrets)

    wrong = {**env, "DIGEST_MAILBOX_URL": imap_account.url().replace("pw%2F", "nope%2F")}
    refused = CliRunner().invoke(app, ["mailbox"], env=wrong)
    assert isinstance(refused.exception, MailboxError)
    assert refused.exception.exit_code == 6
    assert "login as" in str(refused.exception) and "refused" in str(refused.exception)
    assert not any(secret in str(refused.exception) for secret in ("nope", *secrets))
