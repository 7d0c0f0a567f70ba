"""The public site for tests: `digest site`'s app served by uvicorn on 127.0.0.1 in a thread, its
state database on SQLite or PostgreSQL (the `database_url` fixture), and an aiosmtpd server that
receives its confirmation emails and the issues `digest send` sends."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from digest.config import Settings, load_settings
from tests.support.smtp_server import SmtpServer, free_port

SECRET = "site-tests-secret-9f2c61d0a7b84e55"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    url: str
    settings: Settings
    smtp: SmtpServer

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def mail_to(self, address: str, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        """The messages received for `address`, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m.message
                for m in self.smtp.received
                if any(address.lower() in rcpt.lower() for rcpt in m.rcpt_tos)
            ]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def site_settings(
    root: Path, database_url: str, smtp: SmtpServer, url: str, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "issues_dir": root / "issues",
        "state_url": database_url,
        "secret_key": SECRET,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "smtp_retry_delay": 0.001,
        "site_url": url,
        "signup_min_seconds": 0,
        "newsletter_name": "The Harbour Post",
        "mail_from": "The Harbour Post <news@harbour.example>",
    }
    return load_settings(**(values | extra))


@contextmanager
def running_site(root: Path, database_url: str, **extra: Any) -> Iterator[Site]:
    """The site with its own SMTP server; `extra` overrides settings."""
    from digest.site.app import create_app
    from tests.test_web import running

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpServer() as smtp:
        settings = site_settings(root, database_url, smtp, url, **extra)
        # As `digest site` runs it: uvicorn's access log and proxy headers off (the app has
        # its own).
        options = {"access_log": False, "proxy_headers": False, "log_config": None}
        with running(create_app(settings), port, **options):
            yield Site(url=url, settings=settings, smtp=smtp)


def form_token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def link(message: EmailMessage, pattern: str) -> str:
    """The first URL in the plain-text part matching `pattern`."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = re.search(pattern, text)
    assert found, text
    return found.group(0)
