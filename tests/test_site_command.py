"""`digest site` as an operator runs it: a real process with two uvicorn workers sharing the
sign-up limit through the state database, an access log without tokens, and one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from digest.tokens import TokenSigner
from tests.support.site import SECRET, form_token
from tests.support.smtp_server import SmtpServer, free_port
from tests.test_cli import digest


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"digest site exited: {process.communicate()[1]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("digest site did not start listening")


def test_two_workers_share_the_limit_and_log_no_token(isolated_environment: Path) -> None:
    port = free_port()
    with SmtpServer() as smtp:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")} | {
            "DIGEST_SECRET_KEY": SECRET,
            "DIGEST_STATE_URL": f"sqlite:///{isolated_environment / 'state.db'}",
            "DIGEST_SMTP_HOST": smtp.host,
            "DIGEST_SMTP_PORT": str(smtp.port),
            "DIGEST_SMTP_SECURITY": "none",
            "DIGEST_SIGNUPS_PER_IP": "3",
            "DIGEST_SIGNUP_MIN_SECONDS": "0",
            "COLUMNS": "200",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "digest", "site", "--port", str(port), "--workers", "2"],
            cwd=isolated_environment,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_port(port, process)
            url = f"http://127.0.0.1:{port}"
            statuses = []
            for n in range(8):
                # A new connection each time, so both workers answer some of them.
                with httpx.Client(base_url=url, timeout=30) as client:
                    page = client.get("/subscribe")
                    answer = client.post(
                        "/subscribe",
                        data={"csrf": form_token(page), "email": f"reader{n}@example.com"},
                    )
                    statuses.append(answer.status_code)
            token = TokenSigner(SECRET).sign("reader0@example.com")
            with httpx.Client(base_url=url, timeout=30) as client:
                assert client.get(f"/unsubscribe/{token}").status_code == 200
                assert client.get(f"/unsubscribe?token={token}").status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
    assert statuses == [200, 200, 200, 429, 429, 429, 429, 429]
    assert f"The site is at {url}" in stderr
    assert '"GET /unsubscribe/…" 200' in stderr and '"GET /unsubscribe" 200' in stderr
    assert token not in stderr and SECRET not in stderr
    assert process.returncode == 0, stderr


def test_listening_off_loopback_needs_the_public_address(isolated_environment: Path) -> None:
    run = digest("site", "--host", "0.0.0.0", cwd=isolated_environment, DIGEST_SECRET_KEY=SECRET)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: DIGEST_SITE_URL: required to listen on 0.0.0.0")
