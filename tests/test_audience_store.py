"""The subscribers table, on SQLite and PostgreSQL: one row per address whatever its case, imports
that never bring back who left, leaving with a reason, and the double opt-in's bookkeeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from digest.audience.csv_import import ListRow
from digest.audience.signups import Confirmation, Pruned, Request, SignUps
from digest.audience.status import (
    ACTIVE,
    BOUNCED,
    COMPLAINED,
    PENDING,
    UNSUBSCRIBED,
    Consent,
    Source,
)
from digest.audience.store import AddressLeft, SubscriberStore
from digest.state.engine import open_engine

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(database_url: str) -> Iterator[SubscriberStore]:
    engine = open_engine(database_url)
    try:
        yield SubscriberStore(engine)
    finally:
        engine.dispose()


@pytest.fixture
def signups(store: SubscriberStore) -> SignUps:
    return SignUps(store.engine)


def rows(*emails: str, name: str = "") -> list[ListRow]:
    return [ListRow(email=email, name=name) for email in emails]


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
        [ListRow(email=f"r{n}@example.com", fields={"city": f"c{n}"}) for n in range(2500)]
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
    signups: SignUps,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    first = signups.request_confirmation(
        "New@Example.com", name="New", consent=consent(start), resend_after=HOUR / 2
    )
    again = signups.request_confirmation(
        "new@example.com", name="", consent=consent(start + HOUR / 4), resend_after=HOUR / 2
    )
    later = signups.request_confirmation(
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
    signups: SignUps,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    signups.request_confirmation(
        "a@example.com", name="", consent=consent(start), resend_after=HOUR
    )
    signups.release_confirmation("a@example.com", start)
    assert (
        signups.request_confirmation(
            "a@example.com", name="", consent=consent(start), resend_after=HOUR
        )
        == Request.AGAIN
    )


def test_an_active_subscriber_signing_up_again_changes_nothing(
    store: SubscriberStore, signups: SignUps
) -> None:
    store.import_rows(rows("ada@example.com", name="Ada"))
    start = dt.datetime(2026, 11, 26, 9, 0)
    outcome = signups.request_confirmation(
        "ada@example.com", name="Eve", consent=consent(start), resend_after=HOUR
    )
    assert outcome == Request.ACTIVE
    record = store.get("ada@example.com")
    assert record is not None and record.name == "Ada" and record.consent is None


def test_confirming_activates_but_never_with_a_link_from_before_leaving(
    store: SubscriberStore,
    signups: SignUps,
) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0)
    signups.request_confirmation(
        "ada@example.com", name="", consent=consent(start), resend_after=HOUR
    )
    assert (
        signups.confirm("ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + HOUR)
        == Confirmation.CONFIRMED
    )
    assert (
        signups.confirm("ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + HOUR)
        == Confirmation.ALREADY
    )
    left_at = start + 2 * HOUR
    store.set_status("ada@example.com", UNSUBSCRIBED, reason="link", now=left_at)
    old_link = signups.confirm(
        "ada@example.com", issued=start.replace(tzinfo=dt.UTC), now=start + 3 * HOUR
    )
    assert old_link == Confirmation.STALE
    record = store.get("ada@example.com")
    assert record is not None and record.status == UNSUBSCRIBED
    signed_up_again = start + 4 * HOUR
    signups.request_confirmation(
        "ada@example.com", name="", consent=consent(signed_up_again), resend_after=HOUR
    )
    assert (
        signups.confirm(
            "ada@example.com", issued=signed_up_again.replace(tzinfo=dt.UTC), now=start + 5 * HOUR
        )
        == Confirmation.CONFIRMED
    )
    record = store.get("ada@example.com")
    assert record is not None and record.status == ACTIVE and record.left_at is None
    assert record.confirmed_at == start + 5 * HOUR
    assert (
        signups.confirm("ghost@example.com", issued=start.replace(tzinfo=dt.UTC), now=start)
        == Confirmation.UNKNOWN
    )


def test_a_list_with_statuses_brings_each_in_as_it_says(store: SubscriberStore) -> None:
    joined = dt.datetime(2025, 3, 1, 8, 0)
    left = dt.datetime(2025, 9, 1, 8, 0)
    report = store.import_rows(
        [
            ListRow(email="act@example.com", created_at=joined, confirmed_at=joined),
            ListRow(
                email="pen@example.com", status=PENDING, source=Source.FORM, consent=consent(joined)
            ),
            ListRow(email="uns@example.com", status=UNSUBSCRIBED, left_at=left, reason="link"),
            ListRow(email="bou@example.com", status=BOUNCED),
            ListRow(email="com@example.com", status=COMPLAINED, reason="a spam report"),
        ]
    )
    assert (report.added, report.updated, report.unchanged) == (5, 0, 0)
    assert report.listed_line == (
        "the list gives 3 as having left (1 unsubscribed, 1 bounced, 1 complained) and "
        "1 as pending (not mailed until they confirm)"
    )
    found = {record.email: record for record in store.export()}
    assert [record.email for record in store.export()] == [
        "act@example.com",
        "pen@example.com",
        "uns@example.com",
        "bou@example.com",
        "com@example.com",
    ]
    assert found["act@example.com"].created_at == joined
    assert found["act@example.com"].confirmed_at == joined
    assert found["pen@example.com"].status == PENDING
    assert found["pen@example.com"].source == Source.FORM
    assert found["pen@example.com"].consent == consent(joined)
    assert found["uns@example.com"].left_at == left and found["uns@example.com"].reason == "link"
    assert found["bou@example.com"].left_at is not None
    assert found["bou@example.com"].reason == "imported as bounced"
    assert found["com@example.com"].status == COMPLAINED
    assert [subscriber.email for subscriber in store.active()] == ["act@example.com"]


def test_a_list_that_says_someone_left_stops_mail_and_never_brings_anyone_back(
    store: SubscriberStore,
    signups: SignUps,
) -> None:
    store.import_rows(
        rows(
            "act@example.com",
            "gone@example.com",
            "weak@example.com",
            "kept@example.com",
            name="Old",
        )
    )
    signups.request_confirmation(
        "pen@example.com", name="Pen", consent=consent(dt.datetime(2026, 1, 1)), resend_after=HOUR
    )
    store.set_status("gone@example.com", BOUNCED, reason="550 no such user")
    store.set_status("weak@example.com", UNSUBSCRIBED, reason="link")
    report = store.import_rows(
        [
            ListRow(email="ACT@example.com", status=UNSUBSCRIBED, reason="asked by phone"),
            ListRow(email="gone@example.com"),  # active in the list: stays bounced
            ListRow(email="weak@example.com", status=COMPLAINED, reason="a spam report"),
            ListRow(email="kept@example.com", status=PENDING),  # never demotes the active
            ListRow(email="pen@example.com", status=PENDING, name="Penelope"),
            ListRow(email="new@example.com", status=PENDING),
        ]
    )
    assert (report.added, report.updated, report.unchanged) == (1, 3, 1)
    assert report.skipped == {UNSUBSCRIBED: 0, BOUNCED: 1, COMPLAINED: 0}
    act = store.get("act@example.com")
    assert act is not None and act.status == UNSUBSCRIBED and act.reason == "asked by phone"
    assert act.left_at is not None
    gone = store.get("gone@example.com")
    assert gone is not None and gone.status == BOUNCED and gone.reason == "550 no such user"
    weak = store.get("weak@example.com")
    assert weak is not None and weak.status == COMPLAINED
    kept = store.get("kept@example.com")
    assert kept is not None and kept.status == ACTIVE
    pen = store.get("pen@example.com")
    assert pen is not None and pen.status == PENDING and pen.name == "Penelope"
    assert pen.consent is not None
    assert [subscriber.email for subscriber in store.active()] == ["kept@example.com"]
    again = store.import_rows([ListRow(email="weak@example.com", status=UNSUBSCRIBED)])
    assert (again.updated, again.unchanged) == (0, 1)
    assert store.get("weak@example.com").status == COMPLAINED  # type: ignore[union-attr]


def test_of_two_rows_for_one_address_in_a_list_the_one_that_left_wins(
    store: SubscriberStore,
) -> None:
    report = store.import_rows(
        [
            ListRow(email="a@example.com"),
            ListRow(email="A@example.com", status=UNSUBSCRIBED),
            ListRow(email="a@EXAMPLE.com"),
            ListRow(email="p@example.com", status=PENDING),
            ListRow(email="P@example.com"),
        ]
    )
    assert report.duplicates == 3 and report.added == 2
    assert store.get("a@example.com").status == UNSUBSCRIBED  # type: ignore[union-attr]
    assert store.get("p@example.com").status == ACTIVE  # type: ignore[union-attr]


def test_sign_ups_nobody_confirmed_are_forgotten_after_the_window(
    store: SubscriberStore,
    signups: SignUps,
) -> None:
    now = dt.datetime(2026, 12, 1, 9, 0)
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=5)

    def sign_up(email: str, at: dt.datetime) -> None:
        signups.request_confirmation(email, name="", consent=consent(at), resend_after=HOUR)

    sign_up("old@example.com", old)
    sign_up("recent@example.com", recent)
    sign_up("released@example.com", old)
    signups.release_confirmation("released@example.com", old)  # the email could not go out
    store.import_rows([ListRow(email="imported@example.com", status=PENDING, created_at=old)])
    sign_up("kept@example.com", old)
    signups.confirm("kept@example.com", issued=old.replace(tzinfo=dt.UTC), now=old + HOUR)
    store.set_status("kept@example.com", UNSUBSCRIBED, reason="link", now=old + 2 * HOUR)
    store.import_rows(rows("again@example.com"))
    store.set_status("again@example.com", BOUNCED, reason="550", now=old - dt.timedelta(days=9))
    sign_up("again@example.com", old)  # signed up again after bouncing, never confirmed
    sign_up("active@example.com", old)
    signups.confirm("active@example.com", issued=old.replace(tzinfo=dt.UTC), now=old + HOUR)

    pruned = signups.prune_unconfirmed(older_than=now - dt.timedelta(days=30))
    assert (pruned.deleted, pruned.cleared) == (3, 1)
    assert pruned.line(30) == (
        "Unconfirmed sign-ups older than 30 days: 3 pending addresses deleted, 1 sign-up "
        "details cleared from addresses that left."
    )
    for gone in ("old@example.com", "released@example.com", "imported@example.com"):
        assert store.get(gone) is None
    waiting = store.get("recent@example.com")
    assert waiting is not None and waiting.status == PENDING and waiting.consent is not None
    again = store.get("again@example.com")
    assert again is not None and again.status == BOUNCED and again.consent is None
    assert again.reason == "550" and again.left_at is not None
    kept = store.get("kept@example.com")
    assert kept is not None and kept.consent == consent(old)
    active = store.get("active@example.com")
    assert active is not None and active.status == ACTIVE and active.consent == consent(old)
    assert signups.prune_unconfirmed(older_than=now - dt.timedelta(days=30)) == Pruned(
        deleted=0, cleared=0
    )
    assert (
        signups.request_confirmation(
            "again@example.com", name="", consent=consent(now), resend_after=HOUR
        )
        == Request.AGAIN
    )
