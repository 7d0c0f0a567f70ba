"""`digest send` and the subscribers table, on SQLite and PostgreSQL: only active subscribers get
the issue; DIGEST_SUBSCRIBERS is imported first and never brings back who left;
DIGEST_SUPPRESSIONS become unsubscribed; an address that leaves during a send is not mailed."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from digest.audience.csv_import import ListRow
from digest.audience.signups import SignUps
from digest.audience.store import ACTIVE, PENDING, UNSUBSCRIBED, Consent, SubscriberStore
from digest.config import Settings, load_settings
from digest.deliver import dry_run, send_issue
from digest.deliver.outgoing import Result
from digest.errors import ConfigError
from digest.prepare import prepare_message
from digest.state.engine import open_engine
from digest.state.ledger import Ledger
from digest.state.schema import utcnow
from digest.store import load_issue
from tests.support.smtp_server import SmtpServer
from tests.test_send_command import issue_folder  # noqa: F401  (the fixture)


def settings_for(server: SmtpServer, database_url: str, root: Path, **extra: object) -> Settings:
    return load_settings(
        issues_dir=root / "issues",
        state_url=database_url,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_security="none",
        smtp_connections=1,
        smtp_retry_delay=0.001,
        secret_key="test-secret-key-of-some-length",
        **extra,
    )


def send(settings: Settings, stop: threading.Event | None = None, after: int = 0):
    """`digest send` as the command runs it; with `after`, stops once that many are sent."""
    issue = load_issue(settings)
    template = prepare_message(issue, settings)
    engine = open_engine(settings.state_url)
    seen: list[Result] = []

    class Stopper:
        def start(self, total: int) -> None:
            pass

        def advance(self, result: Result) -> None:
            seen.append(result)
            if after and len(seen) >= after and stop is not None:
                stop.set()

    try:
        return send_issue(settings, issue, template, Ledger(engine), stop=stop, progress=Stopper())
    finally:
        engine.dispose()


def store_of(database_url: str) -> SubscriberStore:
    return SubscriberStore(open_engine(database_url))


def test_only_active_subscribers_get_the_issue_and_the_list_never_brings_back_who_left(
    issue_folder: Path,  # noqa: F811
    database_url: str,
    isolated_environment: Path,
) -> None:
    store = store_of(database_url)
    store.import_rows(
        [ListRow(email=e) for e in ("kept@example.com", "gone@example.com", "old@example.com")]
    )
    store.set_status("gone@example.com", UNSUBSCRIBED, reason="one-click")
    consent = Consent(at=utcnow(), ip="192.0.2.1", user_agent="x", url="https://s/", text="yes")
    SignUps(store.engine).request_confirmation(
        "waiting@example.com", name="", consent=consent, resend_after=dt.timedelta(0)
    )
    listing = isolated_environment / "list.csv"
    listing.write_text(
        "email,name\nGone@example.com,Gone\nnew@example.com,New\nsuppressed@example.com,S\n"
    )
    suppressions = isolated_environment / "suppressions.txt"
    suppressions.write_text("suppressed@example.com\nold@example.com\n")
    with SmtpServer() as server:
        settings = settings_for(
            server,
            database_url,
            isolated_environment,
            subscribers=listing,
            suppressions=suppressions,
        )
        summary = send(settings)
    assert server.recipients() == {"kept@example.com": 1, "new@example.com": 1}
    assert summary.ok and summary.sent == 2
    assert (summary.left, summary.suppressed) == (1, 1)
    assert "1 suppressed, 1 who left" in summary.line
    record = store.get("old@example.com")
    assert record is not None and record.status == UNSUBSCRIBED
    assert record.reason == "listed in DIGEST_SUPPRESSIONS"
    counts = store.counts()
    assert (counts[ACTIVE], counts[PENDING], counts[UNSUBSCRIBED]) == (2, 1, 3)
    store.engine.dispose()


def test_the_table_alone_is_a_list_and_an_empty_one_is_a_clear_error(
    issue_folder: Path,  # noqa: F811
    database_url: str,
    isolated_environment: Path,
) -> None:
    with SmtpServer() as server:
        settings = settings_for(server, database_url, isolated_environment)
        with pytest.raises(ConfigError, match="nobody to send to: no active subscriber"):
            send(settings)
        store = store_of(database_url)
        store.add("solo@example.com")
        store.engine.dispose()
        assert send(settings).sent == 1
    assert server.recipients() == {"solo@example.com": 1}


def test_an_address_that_leaves_during_a_send_is_not_mailed(
    issue_folder: Path,  # noqa: F811
    database_url: str,
    isolated_environment: Path,
) -> None:
    store = store_of(database_url)
    store.import_rows([ListRow(email=f"r{n}@example.com") for n in range(6)])
    with SmtpServer() as server:
        settings = settings_for(server, database_url, isolated_environment)
        first = send(settings, stop=threading.Event(), after=2)
        assert first.stopped and first.sent == 2
        store.set_status("r4@example.com", UNSUBSCRIBED, reason="one-click")
        second = send(settings)
    store.engine.dispose()
    assert second.ok and second.pending == 0
    assert set(server.recipients()) == {f"r{n}@example.com" for n in (0, 1, 2, 3, 5)}
    assert max(server.recipients().values()) == 1


def test_a_dry_run_counts_the_table_and_the_list_without_changing_either(
    issue_folder: Path,  # noqa: F811
    database_url: str,
    isolated_environment: Path,
) -> None:
    store = store_of(database_url)
    store.import_rows([ListRow(email="kept@example.com"), ListRow(email="gone@example.com")])
    store.set_status("gone@example.com", UNSUBSCRIBED, reason="one-click")
    listing = isolated_environment / "list.csv"
    listing.write_text("email\ngone@example.com\nnew@example.com\nkept@example.com\n")
    with SmtpServer() as server:
        settings = settings_for(server, database_url, isolated_environment, subscribers=listing)
        issue = load_issue(settings)
        summary = dry_run(settings, issue, prepare_message(issue, settings))
    assert (summary.messages, summary.left, summary.duplicates) == (2, 1, 0)
    assert store.get("new@example.com") is None and not server.received
    store.engine.dispose()


def test_a_list_with_a_status_column_mails_only_whom_it_gives_as_active(
    issue_folder: Path,  # noqa: F811
    database_url: str,
    isolated_environment: Path,
) -> None:
    store = store_of(database_url)
    store.import_rows([ListRow(email="stays@example.com"), ListRow(email="quits@example.com")])
    listing = isolated_environment / "export.csv"
    listing.write_text(
        "email,status,left_at,reason\nstays@example.com,active,,\nnew@example.com,,,\n"
        "quits@example.com,unsubscribed,2026-11-01 10:00:00,asked by phone\n"
        "bounced@example.com,bounced,,\nwaits@example.com,pending,,\n"
    )
    with SmtpServer() as server:
        settings = settings_for(server, database_url, isolated_environment, subscribers=listing)
        issue = load_issue(settings)
        rehearsal = dry_run(settings, issue, prepare_message(issue, settings))
        summary = send(settings)
    assert (rehearsal.messages, rehearsal.left, rehearsal.duplicates) == (2, 2, 0)
    assert server.recipients() == {"stays@example.com": 1, "new@example.com": 1}
    assert summary.ok and summary.left == 2
    quits = store.get("quits@example.com")
    assert quits is not None and quits.status == UNSUBSCRIBED
    assert quits.reason == "asked by phone" and quits.left_at == dt.datetime(2026, 11, 1, 10)
    waits = store.get("waits@example.com")
    assert waits is not None and waits.status == PENDING
    store.engine.dispose()
