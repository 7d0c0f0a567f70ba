"""`digest send` and `digest status` end to end: a real issue folder, a real SMTP server, the
command in a subprocess (so it can be killed), and a count of what the server received."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import trustme
from typer.testing import CliRunner

from digest.audience.csv_import import InvalidRow, ListReport, read_subscribers
from digest.cli import app
from digest.errors import ConfigError, DeliveryError
from tests.conftest import FIXTURES
from tests.support.issues import publish_issue
from tests.support.smtp_server import Faults, SmtpServer

ROOT = Path(__file__).resolve().parent.parent
SEND = FIXTURES / "send"
FIXTURE_RECIPIENTS = {
    "ada@example.com",
    "grace@example.org",
    "kurt@xn--bcher-kva.example",
    "eve@example.net",
    "bob@example.com",
}


@pytest.fixture
def issue_folder(isolated_environment: Path) -> Path:
    """A published issue in ./issues, as `digest build` leaves it."""
    return publish_issue(isolated_environment / "issues")


def _env(server: SmtpServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        "DIGEST_SMTP_HOST": server.host,
        "DIGEST_SMTP_PORT": str(server.port),
        "DIGEST_SMTP_SECURITY": "none",
        "DIGEST_SMTP_RETRY_DELAY": "0.001",
        "DIGEST_SMTP_MAX_ATTEMPTS": "3",
        "DIGEST_SECRET_KEY": "test-secret-key-of-some-length",
        "DIGEST_SUBSCRIBERS": str(SEND / "subscribers.csv"),
        "DIGEST_SUPPRESSIONS": str(SEND / "suppressions.txt"),
        # One sending process, the command's own, which the tests kill and signal;
        # tests/test_workers.py runs several.
        "DIGEST_SEND_WORKERS": "1",
        **extra,
    }


def _digest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _invoke(env: dict[str, str], *args: str) -> tuple[int, str, BaseException | None]:
    """The command in this process (faster than a subprocess): exit code, output, exception."""
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output, result.exception


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _list(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name\n")
        handle.writelines(f"reader{n}@example.com,Reader {n}\n" for n in range(count))
    return path


def test_send_reaches_every_valid_subscriber_once_over_starttls_and_auth(
    issue_folder: Path, tmp_path: Path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with SmtpServer(tls=context, users={"digest": "s3cret"}) as server:
        env = _env(
            server,
            DIGEST_SMTP_SECURITY="starttls",
            DIGEST_SMTP_CA_FILE=str(tmp_path / "ca.pem"),
            DIGEST_SMTP_USERNAME="digest",
            DIGEST_SMTP_PASSWORD="s3cret",
        )
        first = _digest(env, "send")
        assert first.returncode == 0, first.stderr
        assert "5 sent, 0 failed" in first.stderr
        assert "4 invalid rows, 2 suppressed" in first.stderr
        report = issue_folder.parent / "2026-11-26.invalid-subscribers.csv"
        assert "line 3: 'not-an-address': " in first.stderr
        assert "line 6: no address in the email column" in first.stderr
        assert "4 invalid rows (all 4 are listed in issues/2026-11-26.invalid-" in first.stderr
        assert report.read_text(encoding="utf-8").splitlines()[1:] == [
            f"{bad.line},{bad.value},{bad.reason}" for bad in _invalid_rows(SEND)
        ]
        assert "s3cret" not in first.stderr + first.stdout
        assert server.recipients() == dict.fromkeys(FIXTURE_RECIPIENTS, 1)

        status = _digest(env, "status")
    assert status.returncode == 0
    assert "5 sent, 0 failed, 0 pending" in status.stdout
    eve = next(m.message for m in server.received if m.rcpt_tos == ("eve@example.net",))
    assert eve["Bcc"] is None and "victim" in eve["To"]
    assert eve["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {m.message["Subject"] for m in server.received} == {
        "The Daily Digest: Harbour talks resume"
    }


def _invalid_rows(folder: Path) -> list[InvalidRow]:
    report = ListReport()
    list(read_subscribers(folder / "subscribers.csv", suppressed=frozenset(), report=report))
    return report.invalid


def test_a_broken_list_stops_the_send_before_anything_is_sent(
    issue_folder: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "list.csv"
    lines = [f"reader{n}@example.com,Reader {n}" for n in range(10)]
    lines[4] = '"reader4@example.com,Reader 4'
    broken.write_text("email,name\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with SmtpServer() as server:
        env = _env(server, DIGEST_SUBSCRIBERS=str(broken))
        result = _digest(env, "send")
        status = _digest(env, "status")
        dry = _digest(env, "send", "--dry-run")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: DIGEST_SUBSCRIBERS: {broken}: line 6: a quoted field is never closed (a stray "
        "'\"'?); the list was not read, nothing was sent"
    ]
    assert server.received == []
    assert "not sent yet" in status.stdout
    assert dry.returncode == 2 and "line 6" in dry.stderr


def test_a_refused_address_fails_the_run_and_is_retried_on_request(issue_folder: Path) -> None:
    with SmtpServer(faults=Faults(reject={"grace@example.org"})) as server:
        env = _env(server)
        code, output, error = _invoke(env, "send")
        assert isinstance(error, DeliveryError) and "4 sent, 1 failed" in output
        code, output, _ = _invoke(env, "status")
        assert "4 sent, 1 failed, 0 pending" in output
        assert "grace@example.org: 550 5.1.1" in output

        assert "already sent" in _invoke(env, "send")[1]
        server.faults.reject.clear()
        code, output, error = _invoke(env, "send", "--retry-failed")
        assert code == 0, (output, error)
    assert server.recipients() == dict.fromkeys(FIXTURE_RECIPIENTS, 1)


def test_a_test_copy_goes_only_to_the_given_address_and_records_nothing(
    issue_folder: Path,
) -> None:
    with SmtpServer() as server:
        env = _env(server)
        code, output, error = _invoke(env, "send", "--to", "Editor@Example.com")
        assert code == 0, (output, error)
        status = _invoke(env, "status")[1]
    assert [m.rcpt_tos for m in server.received] == [("Editor@example.com",)]
    assert server.received[0].message["Subject"] == "[TEST] The Daily Digest: Harbour talks resume"
    assert "not sent yet" in status


def test_a_dry_run_builds_every_message_without_connecting(issue_folder: Path) -> None:
    with SmtpServer() as server:
        env = _env(server)
        code, output, error = _invoke(env, "send", "--dry-run")
        status = _invoke(env, "status")[1]
    assert code == 0, (output, error)
    assert "5 messages built and checked" in output
    assert "1 duplicates, 2 suppressed" in output
    assert server.received == []
    assert "not sent yet" in status


def test_a_send_killed_midway_resumes_with_exactly_the_rest(
    issue_folder: Path, tmp_path: Path
) -> None:
    with SmtpServer() as server:
        env = _env(
            server,
            DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", 40)),
            DIGEST_SMTP_CONNECTIONS="1",
        )
        sender = _start(env, "send")
        server.faults.kill = (sender.pid, 15)
        sender.communicate(timeout=120)
        assert sender.returncode == -signal.SIGKILL
        assert len(server.received) == 14

        status = _digest(env, "status")
        assert "14 sent, 0 failed, 26 pending" in status.stdout
        resumed = _digest(env, "send")
        assert resumed.returncode == 0, resumed.stderr
        assert "26 sent, 0 failed" in resumed.stderr
    assert server.recipients() == {f"reader{n}@example.com": 1 for n in range(40)}


def test_a_kill_during_parallel_sending_repeats_at_most_one_message_per_connection(
    issue_folder: Path, tmp_path: Path
) -> None:
    """A message whose 250 arrived but whose commit did not is sent again: never more than one per
    connection, and always with the same Message-ID, so the repeat is recognisable."""
    with SmtpServer() as server:
        env = _env(
            server,
            DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", 60)),
            DIGEST_SMTP_CONNECTIONS="4",
        )
        sender = _start(env, "send")
        server.faults.kill = (sender.pid, 25)
        sender.communicate(timeout=120)
        assert sender.returncode == -signal.SIGKILL
        resumed = _digest(env, "send")
        assert resumed.returncode == 0, resumed.stderr
    counts = server.recipients()
    assert set(counts) == {f"reader{n}@example.com" for n in range(60)}
    repeated = [address for address, count in counts.items() if count > 1]
    assert len(repeated) <= 4 and max(counts.values()) <= 2
    for address in repeated:
        ids = {m.message["Message-ID"] for m in server.received if m.rcpt_tos == (address,)}
        assert len(ids) == 1


def test_sigterm_stops_cleanly_after_recording_the_messages_in_flight(
    issue_folder: Path, tmp_path: Path
) -> None:
    with SmtpServer() as server:
        env = _env(
            server,
            DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", 40)),
            DIGEST_SMTP_CONNECTIONS="2",
        )
        sender = _start(env, "send")
        server.faults.terminate = (sender.pid, 10)
        _, stderr = sender.communicate(timeout=120)
        assert sender.returncode == 130, stderr
        assert "SIGTERM: stopping" in stderr
        received = len(server.received)
        status = _digest(env, "status")
        assert f"{received} sent, 0 failed, {40 - received} pending" in status.stdout
        resumed = _digest(env, "send")
        assert resumed.returncode == 0, resumed.stderr
    assert server.recipients() == Counter({f"reader{n}@example.com": 1 for n in range(40)})


def test_sigterm_cuts_a_trickling_transaction_within_the_smtp_timeout(
    issue_folder: Path, tmp_path: Path
) -> None:
    """A relay trickling its reply a byte at a time holds the message in flight; SIGTERM still
    ends the send, and the message cut in flight stays pending.

    What bounds the stop is the watchdog's deadline, not the clock of a loaded machine: the
    message says it was the stop that cut the transaction, i.e. the deadline DIGEST_SMTP_TIMEOUT/2
    after the stop, which came before the transaction's own one (DIGEST_SMTP_TIMEOUT after it
    began, so the stop has half a timeout to be noticed). Waiting the relay out would take
    `TRICKLED` seconds; the send ends long before. (Asserting the whole process's exit within
    DIGEST_SMTP_TIMEOUT of the signal, as this test once did, failed on a loaded machine: the
    stop's grace is half of it, and a busy scheduler took the other half to exit.)"""
    trickle = 2.0
    trickled = len(b"250 2.1.5 OK\r\n") * trickle
    with SmtpServer(faults=Faults(trickle_rcpt={"reader2@example.com"}, trickle=trickle)) as server:
        env = _env(
            server,
            DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", 5)),
            DIGEST_SMTP_CONNECTIONS="1",
            DIGEST_SMTP_TIMEOUT="6",
        )
        sender = _start(env, "send")
        server.faults.terminate_on_trickle = sender.pid
        _, stderr = sender.communicate(timeout=120)
        assert server.signalled_at is not None
        stopped_after = time.monotonic() - server.signalled_at
        assert sender.returncode == 130, stderr
        assert "reader2@example.com: interrupted by a stop during RCPT: not delivered" in stderr
        assert stopped_after < trickled / 2, stderr
        assert "stopped, 3 left to send (1 cut in flight)" in " ".join(stderr.split())
        status = _digest(env, "status")
        assert "2 sent, 0 failed, 3 pending" in status.stdout
        resumed = _digest(env, "send")
        assert resumed.returncode == 0, resumed.stderr
    assert server.recipients() == {f"reader{n}@example.com": 1 for n in range(5)}


def test_send_without_a_list_or_secret_says_which_setting(issue_folder: Path) -> None:
    with SmtpServer() as server:
        no_list = _invoke({**_env(server), "DIGEST_SUBSCRIBERS": ""}, "send")[2]
        no_secret = _invoke({**_env(server), "DIGEST_SECRET_KEY": ""}, "send")[2]
        weak = _digest({**_env(server), "DIGEST_SECRET_KEY": "x" * 32}, "send")
    assert isinstance(no_list, ConfigError) and "DIGEST_SUBSCRIBERS" in str(no_list)
    assert isinstance(no_secret, ConfigError) and "DIGEST_SECRET_KEY" in str(no_secret)
    assert weak.returncode == 2 and len(weak.stderr.strip().splitlines()) == 1
    assert "DIGEST_SECRET_KEY: too easy to guess" in weak.stderr and "x" * 32 not in weak.stderr
    assert server.received == []


def test_two_sends_at_once_share_the_list_and_reach_everyone_exactly_once(
    issue_folder: Path, tmp_path: Path, database_url: str
) -> None:
    """Two `digest send` processes on one issue (as a manual send beside the scheduler's): they
    claim rows in batches, so each subscriber is mailed once, both take part, and `digest
    status` names both while they send."""
    count = 200
    with SmtpServer() as server:
        env = _env(
            server,
            DIGEST_SUBSCRIBERS=str(_list(tmp_path / "list.csv", count)),
            DIGEST_SMTP_CONNECTIONS="2",
            DIGEST_SMTP_RATE="20",
            DIGEST_SEND_BATCH="10",
            DIGEST_STATE_URL=database_url,
        )
        senders = [_start(env, "send")]
        deadline = time.monotonic() + 120
        while len(server.received) < 5 and time.monotonic() < deadline:  # the first one sends
            time.sleep(0.05)
        senders.append(_start(env, "send"))
        both = ""
        while not both and all(sender.poll() is None for sender in senders):
            status = _invoke(env, "status")[1]
            if status.count("send pid ") == 2 and status.count("issue 2026-11-26: ") == 2:
                both = status
        outputs = [sender.communicate(timeout=120)[1] for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0], outputs
    assert server.recipients() == {f"reader{n}@example.com": 1 for n in range(count)}
    by_each = [int(re.search(r"Issue 2026-11-26: (\d+) sent", out)[1]) for out in outputs]
    assert sum(by_each) == count and min(by_each) > 0, outputs
    assert "Sending now:" in both and {f"send pid {s.pid} on " in both for s in senders} == {True}
