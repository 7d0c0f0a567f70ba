"""The SMTP sender against a real aiosmtpd server on 127.0.0.1, with TLS, AUTH and faults; the
fault tests run once against a server that offers PIPELINING (RFC 2920) and once against one
that does not."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from digest.config import Settings, load_settings
from digest.deliver.outgoing import Outgoing, Result
from digest.deliver.smtp import SmtpSender
from digest.errors import ConfigError, DeliveryError
from tests.support.smtp_server import Faults, SmtpServer, free_port

SENDER = "news@example.org"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(params=[True, False], ids=["pipelined", "one-at-a-time"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    """Whether the server offers PIPELINING."""
    return bool(request.param)


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _settings(server: SmtpServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_security": "none",
        "smtp_retry_delay": 0.001,
        "smtp_max_attempts": 3,
        "smtp_timeout": 10,
    }
    return load_settings(**(values | overrides))


def _messages(addresses: list[str]) -> Iterator[Outgoing]:
    for n, address in enumerate(addresses):
        body = f"Subject: hello {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\n.dot line\r\nBody\r\n"
        yield Outgoing(n, address, body.encode("ascii"), f"<{n}@example.org>")


def _send(settings: Settings, addresses: list[str]) -> dict[str, Result]:
    results: dict[str, Result] = {}
    lock = threading.Lock()

    def report(result: Result) -> None:
        with lock:
            assert result.outgoing.recipient not in results
            results[result.outgoing.recipient] = result

    SmtpSender(settings, SENDER).run(_messages(addresses), report, threading.Event())
    return results


ADDRESSES = [f"user{n}@example.com" for n in range(12)]


def test_starttls_and_auth_deliver_every_message_once(
    server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    with SmtpServer(tls=server_tls, users={"digest": "s3cret"}) as server:
        settings = _settings(
            server,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username="digest",
            smtp_password="s3cret",
        )
        results = _send(settings, ADDRESSES)
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)
    assert {message.login for message in server.received} == {"digest"}
    assert all(message.mail_from == SENDER for message in server.received)
    assert b"\r\n.dot line\r\n" in server.received[0].data


def test_implicit_tls(server_tls: ssl.SSLContext, ca_file: Path) -> None:
    with SmtpServer(tls=server_tls, implicit_tls=True) as server:
        results = _send(_settings(server, smtp_security="tls", smtp_ca_file=ca_file), ADDRESSES[:3])
    assert all(result.accepted for result in results.values())


def test_an_untrusted_certificate_stops_the_run(server_tls: ssl.SSLContext) -> None:
    with SmtpServer(tls=server_tls) as server:
        with pytest.raises(DeliveryError, match="certificate not trusted"):
            _send(_settings(server, smtp_security="starttls"), ADDRESSES[:2])
        assert server.received == []


def test_wrong_credentials_stop_the_run_without_showing_the_password(
    server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    with SmtpServer(tls=server_tls, users={"digest": "s3cret"}) as server:
        settings = _settings(
            server,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username="digest",
            smtp_password="wrong-password",
        )
        with pytest.raises(DeliveryError, match="login as 'digest' refused") as caught:
            _send(settings, ADDRESSES[:2])
    assert "wrong-password" not in str(caught.value)
    assert "wrong-password" not in repr(settings)


def test_a_temporary_login_failure_is_retried(server_tls: ssl.SSLContext, ca_file: Path) -> None:
    faults = Faults(auth_unavailable=2)
    with SmtpServer(tls=server_tls, users={"digest": "s3cret"}, faults=faults) as server:
        settings = _settings(
            server,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username="digest",
            smtp_password="s3cret",
            smtp_connections=1,
        )
        results = _send(settings, ADDRESSES[:3])
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.faults.auth_unavailable == 0


def test_auth_is_not_offered_without_tls() -> None:
    with SmtpServer(users={"digest": "s3cret"}, auth_require_tls=True) as server:
        settings = _settings(server, smtp_username="digest", smtp_password="s3cret")
        with pytest.raises(DeliveryError, match="no AUTH"):
            _send(settings, ADDRESSES[:1])


def test_421_at_connect_is_retried(pipelining: bool) -> None:
    with SmtpServer(faults=Faults(refuse_connections=2), pipelining=pipelining) as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)


def test_451_then_success_and_550_for_one_address(pipelining: bool) -> None:
    faults = Faults(temporary={"user3@example.com": 2}, reject={"user5@example.com"})
    with SmtpServer(faults=faults, pipelining=pipelining) as server:
        results = _send(_settings(server, smtp_connections=2), ADDRESSES)
    assert results["user3@example.com"].accepted and results["user3@example.com"].attempts == 3
    refused = results["user5@example.com"]
    assert not refused.accepted and refused.attempts == 1 and refused.reply.startswith("550 5.1.1")
    expected = dict.fromkeys(ADDRESSES, 1)
    del expected["user5@example.com"]
    assert server.recipients() == expected


def test_temporary_failures_give_up_after_the_last_attempt(pipelining: bool) -> None:
    with SmtpServer(
        faults=Faults(temporary={"user1@example.com": 99}), pipelining=pipelining
    ) as server:
        results = _send(_settings(server, smtp_max_attempts=3), ADDRESSES[:4])
    given_up = results["user1@example.com"]
    assert not given_up.accepted and given_up.attempts == 3 and given_up.reply.startswith("451")
    assert sum(result.accepted for result in results.values()) == 3


def test_a_connection_dropped_in_the_middle_of_data_is_reopened_and_the_message_resent(
    pipelining: bool,
) -> None:
    faults = Faults(drop_in_data={"user2@example.com": 1, "user7@example.com": 2})
    with SmtpServer(faults=faults, pipelining=pipelining) as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    assert results["user2@example.com"].attempts == 2
    assert results["user7@example.com"].attempts == 3
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)


def test_a_server_that_never_answers_stops_the_run() -> None:
    settings = load_settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_retry_delay=0.001,
        smtp_max_attempts=2,
    )
    reported: list[Result] = []
    with pytest.raises(DeliveryError, match="cannot connect after 2 tries"):
        SmtpSender(settings, SENDER).run(_messages(ADDRESSES), reported.append, threading.Event())
    assert reported == []


def test_a_stop_request_ends_the_run_between_messages(pipelining: bool) -> None:
    stop = threading.Event()
    reported: list[Result] = []

    def report(result: Result) -> None:
        reported.append(result)
        if len(reported) == 3:
            stop.set()

    with SmtpServer(pipelining=pipelining) as server:
        SmtpSender(_settings(server, smtp_connections=1), SENDER).run(
            _messages(ADDRESSES), report, stop
        )
    assert len(reported) == 3 and len(server.received) == 3


def test_plain_smtp_is_refused_towards_a_remote_host() -> None:
    settings = load_settings(smtp_host="192.0.2.1", smtp_security="none")
    with pytest.raises(ConfigError, match="DIGEST_SMTP_SECURITY"):
        SmtpSender(settings, SENDER)
    SmtpSender(
        load_settings(smtp_host="192.0.2.1", smtp_security="none", smtp_allow_insecure=True), SENDER
    )


def test_an_error_reply_then_a_closed_connection_follows_the_retry_rules(
    pipelining: bool,
) -> None:
    """A relay that answers 452 or 554 and hangs up (RSET then fails) costs one try, not the run."""
    faults = Faults(
        hang_up_at_rcpt={
            "user2@example.com": "452 4.5.3 Too many recipients",
            "user5@example.com": "550 5.1.1 No such user",
        },
        hang_up_at_data={
            "user7@example.com": "554 5.7.1 Message refused",
            "user9@example.com": "451 4.3.0 Try again later",
        },
    )
    with SmtpServer(faults=faults, pipelining=pipelining) as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    assert results["user2@example.com"].accepted and results["user2@example.com"].attempts == 2
    assert results["user9@example.com"].accepted and results["user9@example.com"].attempts == 2
    for refused, reply in (("user5@example.com", "550 5.1.1"), ("user7@example.com", "554 5.7.1")):
        assert not results[refused].accepted and results[refused].attempts == 1
        assert results[refused].reply.startswith(reply)
    others = set(ADDRESSES) - {"user2@example.com", "user9@example.com"}
    assert all(results[address].attempts == 1 for address in others)
    expected = dict.fromkeys(ADDRESSES, 1)
    del expected["user5@example.com"], expected["user7@example.com"]
    assert server.recipients() == expected


def test_a_reply_trickled_a_byte_at_a_time_is_cut_at_the_transaction_deadline(
    pipelining: bool,
) -> None:
    """Each byte comes well within the read timeout; the transaction's deadline still holds."""
    faults = Faults(trickle_rcpt={"user1@example.com"}, trickle=0.2)
    with SmtpServer(faults=faults, pipelining=pipelining) as server:
        settings = _settings(server, smtp_connections=1, smtp_timeout=1, smtp_max_attempts=1)
        results = _send(settings, ADDRESSES[:3])
    slow = results["user1@example.com"]
    assert not slow.accepted and not slow.interrupted
    assert slow.reply == "no answer within DIGEST_SMTP_TIMEOUT (1 s) in RCPT"
    assert results["user0@example.com"].accepted and results["user2@example.com"].accepted


def test_a_greeting_trickled_a_byte_at_a_time_is_cut_at_the_connect_deadline() -> None:
    with SmtpServer(faults=Faults(trickle_greetings=1, trickle=0.2)) as server:
        results = _send(_settings(server, smtp_connections=1, smtp_timeout=1), ADDRESSES[:3])
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.connections == 2


def test_a_stop_during_a_slow_connect_ends_the_run_without_an_error() -> None:
    """The stop cuts the connect at its grace; that is no failure to connect."""
    stop = threading.Event()
    reported: list[Result] = []
    with SmtpServer(faults=Faults(trickle_greetings=1, trickle=0.3)) as server:
        settings = _settings(server, smtp_connections=1, smtp_timeout=2, smtp_max_attempts=1)
        threading.Timer(0.3, stop.set).start()
        SmtpSender(settings, SENDER).run(_messages(ADDRESSES[:2]), reported.append, stop)
    assert reported == [] and server.received == []


def test_a_server_offering_pipelining_gets_each_message_in_one_round_trip() -> None:
    """RCPT and DATA go with MAIL, and the next message's commands with the end of the data."""
    with SmtpServer() as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)
    mails = [ahead for what, ahead in server.arrivals if what == "MAIL"]
    ends = [ahead for what, ahead in server.arrivals if what == "end"]
    assert mails == [True] * len(ADDRESSES)
    assert ends == [True] * (len(ADDRESSES) - 1) + [False]
    assert server.connections == 1


def test_a_server_without_pipelining_gets_one_command_at_a_time() -> None:
    with SmtpServer(pipelining=False) as server:
        results = _send(_settings(server, smtp_connections=2), ADDRESSES)
    assert all(result.accepted and result.attempts == 1 for result in results.values())
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)
    assert server.arrivals and not any(ahead for _, ahead in server.arrivals)


def test_a_refused_recipient_in_a_pipelined_batch_fails_alone_on_the_same_connection() -> None:
    with SmtpServer(faults=Faults(reject={"user5@example.com"})) as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    refused = results["user5@example.com"]
    assert not refused.accepted and refused.attempts == 1 and refused.reply.startswith("550 5.1.1")
    others = [results[address] for address in ADDRESSES if address != "user5@example.com"]
    assert all(result.accepted and result.attempts == 1 for result in others)
    assert server.recipients() == {a: 1 for a in ADDRESSES if a != "user5@example.com"}
    assert server.connections == 1


def test_a_connection_dropped_mid_pipeline_loses_and_repeats_no_one(pipelining: bool) -> None:
    """The relay hangs up at a RCPT that went out with the previous message's end of data: that
    message's 250 was read first, so only the message cut short is tried again."""
    with SmtpServer(
        faults=Faults(drop_at_rcpt={"user4@example.com"}), pipelining=pipelining
    ) as server:
        results = _send(_settings(server, smtp_connections=1), ADDRESSES)
    assert results["user4@example.com"].accepted and results["user4@example.com"].attempts == 2
    others = [results[address] for address in ADDRESSES if address != "user4@example.com"]
    assert all(result.accepted and result.attempts == 1 for result in others)
    assert server.recipients() == dict.fromkeys(ADDRESSES, 1)
    assert server.connections == 2


def test_an_address_unfit_for_the_envelope_fails_alone_without_reaching_the_server() -> None:
    addresses = ["user0@example.com", "bad address@example.com", "user2@example.com"]
    with SmtpServer() as server:
        results = _send(_settings(server, smtp_connections=1), addresses)
    bad = results["bad address@example.com"]
    assert not bad.accepted and bad.attempts == 0 and bad.reply.startswith("not sent:")
    assert server.recipients() == {"user0@example.com": 1, "user2@example.com": 1}
