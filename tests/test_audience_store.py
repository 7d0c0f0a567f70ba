"""The subscribers table, on SQLite and PostgreSQL: one row per address whatever its case, imports
that never bring back who left, leaving with a reason, and the double opt-in's bookkeeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from digest.audience.store import (
    ACTIVE,
    BOUNCED,
    COMPLAINED,
    PENDING,
    UNSUBSCRIBED,
    AddressLeft,
    Confirmation,
    Consent,
    Request,
    Source,
    SubscriberStore,
)
from digest.models import Subscriber
from digest.state.engine import open_engine

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(database_url: str) -> Iterator[SubscriberStore]:
    engine = open_engine(database_url)
    try:
        yield SubscriberStore(engine)
    finally:
        engine.dispose()


def rows(*emails: str, name: str = "") -> list[Subscriber]:
    return [Subscriber(email=email, name=name) for email in emails]


def consent(at: dt.datetime, ip: str = "203.0.113.9") -> Consent:
    return Consent(
        at=at, ip=ip, user_agent="Mozilla/5.0", url="https://news.example/subscribe", text="Yes."
    )


def test_a_new_database_has_the_table_with_its_columns(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        columns = {column["name"] for column in sa.inspect(engine).get_columns("subscribers")}
        migrations = {
            row[0] for row in engine.connect().execute(sa.text("SELECT name FROM migrations"))
        }
    finally:
        engine.dispose()
    assert {
        "email",
        "email_key",
        "name",
        "fields",
        "status",
        "source",
        "created_at",
        "confirmed_at",
        "left_at",
        "consent_at",
        "consent_ip",
        "consent_user_agent",
        "consent_url",
        "consent_text",
    } <= columns
    assert "m004_subscribers" in migrations


def test_an_address_is_one_row_whatever_its_case(store: SubscriberStore) -> None:
    report = store.import_rows(rows("Ada@Example.com", "ada@example.com", "bob@example.com"))
    assert (report.added, report.duplicates) == (2, 1)
    store.import_rows(rows("ADA@EXAMPLE.COM", name="Ada"))
    assert store.counts()[ACTIVE] == 2
    record = store.get("ada@EXAMPLE.com")
    assert record is not None
    assert (record.email, record.name, record.source) == ("Ada@Example.com", "Ada", Source.IMPORT)
    with store.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text(
                "INSERT INTO subscribers (email_key, email, name, fields, status, source, reason,"
                " created_at, updated_at) VALUES ('ada@example.com', 'ADA@example.com', '', '{}',"
                " 'active', 'cli', '', '2026-01-01', '2026-01-01')"
            )
        )


def test_an_import_never_brings_back_who_left_and_says_why(store: SubscriberStore) -> None:
    store.import_rows(rows("a@example.com", "b@example.com", "c@example.com", "d@example.com"))
    store.set_status("a@example.com", UNSUBSCRIBED, reason="link")
    store.set_status("b@example.com", BOUNCED, reason="550 5.1.1 user unknown")
    store.set_status("c@example.com", COMPLAINED, reason="ARF abuse report")
    report = store.import_rows(
        rows("A@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com")
    )
    assert report.skipped == {UNSUBSCRIBED: 1, BOUNCED: 1, COMPLAINED: 1}
    assert (report.added, report.updated, report.unchanged) == (1, 0, 1)
    assert "3 skipped because the address left (1 unsubscribed, 1 bounced, 1 complained)" in (
        report.skipped_line
    )
    assert store.counts() == {
        PENDING: 0,
        ACTIVE: 2,
        UNSUBSCRIBED: 1,
        BOUNCED: 1,
        COMPLAINED: 1,
    }


def test_leaving_records_the_reason_and_time_and_stronger_reasons_win(
    store: SubscriberStore,
) -> None:
    store.import_rows(rows("ada@example.com"))
    change = store.set_status("ADA@example.com", BOUNCED, reason="550 5.1.1 user unknown")
    assert change is not None and change.changed
    assert (change.before, change.after) == (ACTIVE, BOUNCED)
    first = store.get("ada@example.com")
    assert first is not None and first.left_at is not None
    assert first.reason == "550 5.1.1 user unknown"
    weaker = store.set_status("ada@example.com", UNSUBSCRIBED, reason="link")
    assert weaker is not None and not weaker.changed and weaker.after == BOUNCED
    stronger = store.set_status("ada@example.com", COMPLAINED, reason="ARF")
    assert stronger is not None and (stronger.before, stronger.after) == (BOUNCED, COMPLAINED)
    record = store.get("ada@example.com")
    assert record is not None and record.left_at == first.left_at and record.reason == "ARF"


def test_an_address_that_is_not_a_subscriber_changes_nothing(store: SubscriberStore) -> None:
    assert store.set_status("nobody@example.com", BOUNCED, reason="DSN") is None
    assert store.get("nobody@example.com") is None
    with pytest.raises(ValueError, match="only records leaving"):
        store.set_status("nobody@example.com", ACTIVE, reason="no")


def test_an_unsubscribe_from_a_list_kept_elsewhere_is_remembered(store: SubscriberStore) -> None:
    change = store.unsubscribe("Old@Example.com", reason="one-click")
    assert change.after == UNSUBSCRIBED
    assert store.import_rows(rows("old@example.com")).skipped[UNSUBSCRIBED] == 1
    assert store.counts()[ACTIVE] == 0


def test_suppressions_mark_known_and_unknown_addresses_unsubscribed(store: SubscriberStore) -> None:
    store.import_rows(rows("a@example.com", "b@example.com"))
    store.set_status("b@example.com", COMPLAINED, reason="ARF")
    assert store.suppress(["A@example.com", "b@example.com", "c@example.com"], reason="list") == 2
    assert store.suppress(["A@example.com", "c@example.com"], reason="list") == 0
    counts = store.counts()
    assert (counts[ACTIVE], counts[UNSUBSCRIBED], counts[COMPLAINED]) == (0, 2, 1)


def test_add_refuses_an_address_that_left(store: SubscriberStore) -> None:
    assert store.add("ada@example.com", name="Ada")
    assert not store.add("ada@example.com")
    store.set_status("ada@example.com", UNSUBSCRIBED, reason="link")
    with pytest.raises(
        AddressLeft, match=r"ada@example.com: unsubscribed on \d{4}-\d\d-\d\d \(link\)"
    ):
        store.add("ada@example.com")


def test_the_export_streams_every_subscriber_in_order_with_fields(store: SubscriberStore) -> None:
    store.import_rows(
        [Subscriber(email=f"r{n}@example.com", fields={"city": f"c{n}"}) for n in range(2500)]
    )
    store.set_status("r7@example.com", UNSUBSCRIBED, reason="link")
    exported = list(store.export())
    assert [record.email for record in exported][:3] == [
        "r0@example.com",
        "r1@example.com",
        "r2@example.com",
    ]
    assert len(exported) == 2500 and exported[5].fields == {"city": "c5"}
    assert [record.email for record in store.export(UNSUBSCRIBED)] == ["r7@example.com"]


def test_a_sign_up_is_pending_with_its_proof_and_one_email_per_interval(
    store: SubscriberStore,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    first = store.request_confirmation(
        "New@Example.com", name="New", consent=consent(start), resend_after=HOUR / 2
    )
    again = store.request_confirmation(
        "new@example.com", name="", consent=consent(start + HOUR / 4), resend_after=HOUR / 2
    )
    later = store.request_confirmation(
        "new@example.com",
        name="",
        consent=consent(start + HOUR, "198.51.100.7"),
        resend_after=HOUR / 2,
    )
    assert (first, again, later) == (Request.NEW, Request.TOO_SOON, Request.AGAIN)
    assert first.send and not again.send and later.send
    record = store.get("new@example.com")
    assert record is not None and record.status == PENDING and record.source == Source.FORM
    assert record.consent == consent(start + HOUR, "198.51.100.7")
    assert record.name == "New"


def test_a_confirmation_that_could_not_be_sent_can_be_asked_for_again(
    store: SubscriberStore,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    store.request_confirmation("a@example.com", name="", consent=consent(start), resend_after=HOUR)
    store.release_confirmation("a@example.com", start)
    assert (
        store.request_confirmation(
            "a@example.com", name="", consent=consent(start), resend_after=HOUR
        )
        == Request.AGAIN
    )


def test_an_active_subscriber_signing_up_again_changes_nothing(store: SubscriberStore) -> None:
    store.import_rows(rows("ada@example.com", name="Ada"))
    start = dt.datetime(2026, 11, 26, 9, 0)
    outcome = store.request_confirmation(
        "ada@example.com", name="Eve", consent=consent(start), resend_after=HOUR
    )
    assert outcome == Request.ACTIVE
    record = store.get("ada@example.com")
    assert record is not None and record.name == "Ada" and record.consent is None


def test_confirming_activates_but_never_with_a_link_from_before_leaving(
    store: SubscriberStore,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    store.request_confirmation(
        "ada@example.com", name="", consent=consent(start), resend_after=HOUR
    )
    assert (
        store.confirm("ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + HOUR)
        == Confirmation.CONFIRMED
    )
    assert (
        store.confirm("ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + HOUR)
        == Confirmation.ALREADY
    )
    left_at = start + 2 * HOUR
    store.set_status("ada@example.com", UNSUBSCRIBED, reason="link", now=left_at)
    old_link = store.confirm(
        "ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + 3 * HOUR
    )
    assert old_link == Confirmation.STALE
    record = store.get("ada@example.com")
    assert record is not None and record.status == UNSUBSCRIBED
    signed_up_again = start + 4 * HOUR
    store.request_confirmation(
        "ada@example.com", name="", consent=consent(signed_up_again), resend_after=HOUR
    )
    assert (
        store.confirm(
            "ada@example.com", issued=signed_up_again.replace(tzinfo=dt.UTC), now=start + 5 * HOUR
        )
        == Confirmation.CONFIRMED
    )
    record = store.get("ada@example.com")
    assert record is not None and record.status == ACTIVE and record.left_at is None
    assert record.confirmed_at == start + 5 * HOUR
    assert (
        store.confirm("ghost@example.com", issued=start.replace(tzinfo=dt.UTC), now=start)
        == Confirmation.UNKNOWN
    )
