"""What each message in the bounce mailbox is and whom it concerns: the 102 real bounces, our
ARF complaint reports, mailto unsubscribe requests, and messages that are none of these."""

from __future__ import annotations

import pytest

from digest.audience.mailbox.classify import Event, Kind, Readers, Target, classify
from digest.audience.mailbox.verp import Verp
from digest.tokens import TokenSigner
from tests.support.mailbox_data import BOUNCES, fixture, real_bounce, real_bounce_names

SECRET = "a-secret-key-for-tests-0123456789"
ADDRESS = "reader@example.org"
SIGNER = TokenSigner(SECRET)
VERP = Verp("bounces@example.com", [SECRET])
READERS = Readers(unsubscribe=SIGNER.verify, verp=VERP)
NO_VERP = Readers(unsubscribe=SIGNER.verify)


def _events(verdict_targets: tuple[Target, ...]) -> dict[str, str]:
    return {target.address or "": target.event.value for target in verdict_targets}


@pytest.mark.parametrize("name", real_bounce_names())
def test_each_real_bounce_names_whom_it_reports(name: str) -> None:
    verdict = classify(real_bounce(name), NO_VERP)
    expected = BOUNCES[name]
    if expected:
        assert verdict.kind is Kind.BOUNCE
        assert _events(verdict.targets) == expected
    else:
        assert verdict.kind is Kind.OTHER
        assert verdict.detail == "a bounce that names no recipient digest can read"


def _delivered_to(raw: bytes, address: str) -> bytes:
    """`raw` as the mailbox holds it when the bounce came back to a VERP envelope sender."""
    return f"Delivered-To: {address}\r\n".encode() + raw


@pytest.mark.parametrize("name", ["bounce_01.txt", "dumbass_01.txt", "dsn_05.txt", "dsn_01.txt"])
def test_verp_names_the_recipient_whatever_the_report_says(name: str) -> None:
    verdict = classify(_delivered_to(real_bounce(name), VERP.sender(314)), READERS)
    assert verdict.kind is Kind.BOUNCE
    assert verdict.detail == "VERP"
    permanent = "permanent" in BOUNCES[name].values()
    assert verdict.targets == (
        Target(Event.PERMANENT if permanent else Event.TEMPORARY, delivery=314),
    )


def _dsn(verp: str, action: str) -> bytes:
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: {verp}\r\n"
        "Subject: Delivery Status Notification\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nA report on your message.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {action}@example.org\r\nAction: {action}\r\n"
        "Status: 2.0.0\r\n\r\n--b--\r\n"
    ).encode()


@pytest.mark.parametrize("action", ["delivered", "relayed", "expanded"])
def test_a_notice_of_success_at_a_verp_address_is_no_bounce(action: str) -> None:
    verdict = classify(_dsn(VERP.sender(5), action), READERS)
    assert verdict.kind is Kind.OTHER


def test_a_dsn_whose_recipient_fields_are_mangled_is_a_bounce_for_its_verp_delivery() -> None:
    verdict = classify(
        _dsn(VERP.sender(5), "failed").replace(b"Final-Recipient", b"X-Garbled"), READERS
    )
    assert verdict.targets == (Target(Event.PERMANENT, delivery=5),)
    delayed = _dsn(VERP.sender(6), "delayed").replace(b"Final-Recipient", b"X-Garbled")
    assert classify(delayed, READERS).targets == (Target(Event.TEMPORARY, delivery=6),)


def test_a_forged_verp_address_is_not_believed() -> None:
    forged = Verp("bounces@example.com", ["someone-elses-secret-0123456789"]).sender(314)
    verdict = classify(_delivered_to(real_bounce("dsn_01.txt"), forged), READERS)
    assert verdict.detail == "named"
    assert _events(verdict.targets) == {"JimmyMcEgypt@go.com": "permanent"}


def _fields(return_path: str = "digest@example.com") -> dict[str, str]:
    return {
        "address": ADDRESS,
        "token": SIGNER.sign(ADDRESS),
        "return_path": return_path,
        "verp": VERP.sender(99),
    }


def test_a_full_feedback_report_is_a_complaint_for_the_signed_recipient() -> None:
    verdict = classify(fixture("arf_full.eml", **_fields()), READERS)
    assert verdict.kind is Kind.COMPLAINT
    assert verdict.targets == (Target(Event.COMPLAINT, address=ADDRESS),)
    assert verdict.message_ids == ("<20261126.0f3a9c1e2b7d4a5f8e6c0b1d2a3f4e5d@example.com>",)


def test_a_complaint_names_the_verp_delivery_its_original_was_sent_from() -> None:
    verdict = classify(fixture("arf_redacted.eml", **_fields(VERP.sender(77))), READERS)
    assert verdict.kind is Kind.COMPLAINT
    assert verdict.targets == (Target(Event.COMPLAINT, delivery=77),)


def test_a_redacted_report_still_names_the_reader_through_the_list_unsubscribe_token() -> None:
    verdict = classify(fixture("arf_redacted.eml", **_fields()), NO_VERP)
    assert verdict.targets == (Target(Event.COMPLAINT, address=ADDRESS),)


def test_a_minimal_report_names_the_original_recipient() -> None:
    verdict = classify(fixture("arf_minimal.eml", **_fields()), NO_VERP)
    assert verdict.kind is Kind.COMPLAINT
    assert verdict.detail == "named"
    assert verdict.targets == (Target(Event.COMPLAINT, address=ADDRESS),)


def test_a_not_spam_report_is_no_complaint() -> None:
    verdict = classify(fixture("arf_not_spam.eml", **_fields()), READERS)
    assert verdict.kind is Kind.OTHER
    assert verdict.detail == "a feedback report of type not-spam"


def test_a_token_in_the_subject_or_on_a_line_of_the_body_unsubscribes() -> None:
    for name in ("unsubscribe_subject.eml", "unsubscribe_body.eml"):
        verdict = classify(fixture(name, **_fields()), READERS)
        assert verdict.kind is Kind.UNSUBSCRIBE, name
        assert verdict.targets == (Target(Event.UNSUBSCRIBE, address=ADDRESS),)


def test_a_token_in_the_mailto_address_unsubscribes() -> None:
    raw = (
        f"From: {ADDRESS}\r\nTo: unsubscribe+{SIGNER.sign(ADDRESS)}@example.com\r\n"
        "Subject: unsubscribe\r\n\r\n"
    ).encode()
    verdict = classify(raw, READERS)
    assert verdict.targets == (Target(Event.UNSUBSCRIBE, address=ADDRESS),)


@pytest.mark.parametrize("name", ["reply_quoting_footer.eml", "vacation_reply.eml", "question.eml"])
def test_replies_auto_replies_and_questions_are_left_alone(name: str) -> None:
    verdict = classify(fixture(name, **_fields()), READERS)
    assert verdict.kind is Kind.OTHER
    assert verdict.targets == ()


def test_a_forged_or_altered_token_unsubscribes_nobody() -> None:
    token = SIGNER.sign(ADDRESS)
    forged = TokenSigner("someone-elses-secret-0123456789").sign(ADDRESS)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, altered, token.replace(".", "")):
        raw = f"From: {ADDRESS}\r\nTo: digest@example.com\r\nSubject: unsubscribe {bad}\r\n\r\n"
        assert classify(raw.encode(), READERS).kind is Kind.OTHER


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: =?utf-8?b?!!!?=\r\nContent-Type: multipart/report; boundary=\r\n\r\n--\r\n",
        b"Content-Type: multipart/report; report-type=feedback-report; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/feedback-report\r\n\r\n--x--\r\n",
        b"From: MAILER-DAEMON@example.net\r\nSubject: Undelivered Mail\r\n\r\n" + b"x" * 5000,
    ],
)
def test_malformed_messages_are_read_without_an_exception(raw: bytes) -> None:
    assert classify(raw, READERS).kind in (Kind.OTHER, Kind.COMPLAINT, Kind.BOUNCE)
