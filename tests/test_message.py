"""The MIME message: headers, bodies, personalisation by substitution, injection, DKIM."""

from __future__ import annotations

import base64
import datetime as dt
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from digest.config import Settings, load_settings
from digest.errors import BuildError, ConfigError, DeliveryError
from digest.message import compose
from digest.models import (
    NAME_PLACEHOLDER,
    PREVIEW_RECIPIENT,
    TOKEN_PLACEHOLDER,
    Issue,
    Recipient,
    RenderedEmail,
    Story,
)
from digest.render import render_email

NOW = dt.datetime(2026, 11, 26, 6, 30, tzinfo=dt.UTC)
ADA = Recipient(email="ada@example.com", name="Ada Lovelace", token="YWRh.c2ln")


def _issue(subject: str = "The Daily Digest: Harbour talks resume") -> Issue:
    lead = Story(
        title="Harbour talks resume",
        url="https://news.example.com/harbour",
        teaser="Fishing fleets idle as talks resume — «enfin».",
        lead=True,
    )
    more = [Story(title=f"Story {n}", url=f"https://news.example.com/{n}") for n in range(3)]
    return Issue(
        date=dt.date(2026, 11, 26),
        newsletter="The Daily Digest",
        subject=subject,
        preheader="Today's news",
        lead=lead,
        more=more,
    )


def _settings(**overrides: object) -> Settings:
    return load_settings(**{"mail_from": "Le Café <news@example.org>", **overrides})


def _parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _bodies(raw: bytes) -> tuple[str, str]:
    text, html = _parse(raw).iter_parts()
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_the_rendered_issue_becomes_a_complete_multipart_message() -> None:
    settings = _settings(reply_to="Desk <desk@example.org>")
    issue = _issue()
    rendered = render_email(issue, settings)
    raw = compose(issue, rendered, settings, now=NOW).personalise(ADA)
    message = _parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert message["From"] == "Le Café <news@example.org>"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Reply-To"] == "Desk <desk@example.org>"
    assert message["Subject"] == issue.subject
    assert b"\r\nDate: Thu, 26 Nov 2026 06:30:00 GMT\r\n" in raw
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == "The Daily Digest <the-daily-digest.example.org>"
    assert message["List-Unsubscribe"] == (
        "<mailto:news@example.org?subject=unsubscribe%20YWRh.c2ln>, "
        "<https://example.com/unsubscribe?token=YWRh.c2ln>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<20261126\.[0-9a-f]{32}@example\.org>", message["Message-ID"])
    plain, markup = _bodies(raw)
    assert plain == rendered.text.replace(TOKEN_PLACEHOLDER, "YWRh.c2ln").replace("\r\n", "\n")
    # The HTML part is the rendered HTML, but for a space before each line that starts with "."
    # (the <style> block's rules), which spares every message's DATA the doubling of that dot.
    expected = rendered.html.replace(TOKEN_PLACEHOLDER, "YWRh.c2ln").replace("\r\n", "\n")
    assert markup == re.sub(r"(?m)^\.", " .", expected)
    assert "\n." not in markup
    assert TOKEN_PLACEHOLDER not in raw.decode("ascii")


def test_the_wire_format_is_ascii_crlf_with_short_lines() -> None:
    settings = _settings()
    issue = _issue("Ünïcödé 🎉 " + "long subject " * 12)
    raw = compose(issue, render_email(issue, settings), settings).personalise(
        Recipient(email="zoe@example.com", name="Zoë «Ω» " * 20, token="t.k")
    )
    raw.decode("ascii")
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    _, _, body = raw.partition(b"\r\n\r\n")
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert _parse(raw)["Subject"] == issue.subject.strip()


@pytest.mark.parametrize("offset", range(0, 160, 7))
def test_placeholders_are_never_split_by_the_encoder(offset: int) -> None:
    """Substituting into QP-encoded text would break where a soft break splits a placeholder."""
    filler = "é" * (offset // 3) + "x=" * (offset % 40)
    html = f"<p>{filler}{TOKEN_PLACEHOLDER}{filler} Hi {NAME_PLACEHOLDER}!</p>\n" * 3
    text = f"{filler}{TOKEN_PLACEHOLDER} {NAME_PLACEHOLDER}{filler}   \n\n.{filler}\n"
    settings = _settings()
    raw = compose(_issue(), RenderedEmail(html=html, text=text), settings).personalise(
        Recipient(email="bob@example.com", name="Bob <b>&", token="abc.def")
    )
    plain, markup = _bodies(raw)
    assert plain == text.replace(TOKEN_PLACEHOLDER, "abc.def").replace(NAME_PLACEHOLDER, "Bob <b>&")
    assert markup == html.replace(TOKEN_PLACEHOLDER, "abc.def").replace(
        NAME_PLACEHOLDER, "Bob &lt;b&gt;&amp;"
    )


def test_a_name_cannot_inject_headers_or_markup() -> None:
    settings = _settings()
    rendered = RenderedEmail(
        html=f"<p>Hello {NAME_PLACEHOLDER}</p><a href='https://example.com/u?t={TOKEN_PLACEHOLDER}'>u</a>",
        text=f"Hello {NAME_PLACEHOLDER}\nhttps://example.com/u?t={TOKEN_PLACEHOLDER}\n",
    )
    evil = Recipient(
        email="eve@example.net",
        name='Eve\r\nBcc: victim@example.com\r\n\r\n<script>alert("x")</script>',
        token="t.k",
    )
    issue = _issue("Hello\r\nBcc: victim@example.com")
    raw = compose(issue, rendered, settings).personalise(evil)
    message = _parse(raw)
    assert message["Bcc"] is None
    assert "victim" not in "".join(message)
    assert message["To"].addresses[0].addr_spec == "eve@example.net"
    assert message["Subject"] == "Hello Bcc: victim@example.com"
    _, markup = _bodies(raw)
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    head = raw.partition(b"\r\n\r\n")[0]
    assert not re.search(rb"^Bcc:", head, re.MULTILINE)


def test_a_bad_address_or_token_is_refused_not_sent() -> None:
    template = compose(_issue(), render_email(_issue(), _settings()), _settings())
    for recipient in (
        Recipient(email="a@example.com\r\nBcc: b@example.com", token="t"),
        Recipient(email="Ada <a@example.com>", token="t"),
        Recipient(email="a@example.com", token="t k"),
        Recipient(email="a@example.com", token=""),
    ):
        with pytest.raises(DeliveryError):
            template.personalise(recipient)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("a\x00b@example.com", "control character U+0000"),
        ("ada@exam\x7fple.com", "control character U+007F"),
        ("ada\x9b@example.com", "control character U+009B"),
        ("\u00fc@example.com", "non-ASCII local part"),
        ("kurt@b\u00fccher.example", "non-ASCII domain"),
    ],
)
def test_an_address_with_control_characters_or_non_ascii_is_refused(
    address: str, problem: str
) -> None:
    """Without SMTPUTF8, which digest never asks the relay for, an address must be ASCII; a
    control character is never part of an address."""
    template = compose(_issue(), render_email(_issue(), _settings()), _settings())
    with pytest.raises(DeliveryError, match=re.escape(problem)):
        template.personalise(Recipient(email=address, token="t"))


def test_message_ids_are_deterministic_per_issue_and_subscriber() -> None:
    settings = _settings(message_id_domain="mail.example.net")
    issue = _issue()
    rendered = render_email(issue, settings)
    first = compose(issue, rendered, settings, now=NOW)
    again = compose(issue, rendered, settings, now=NOW + dt.timedelta(hours=3))
    assert first.message_id("ada@example.com") == again.message_id("ADA@example.com")
    assert first.message_id("ada@example.com") != first.message_id("bob@example.com")
    assert first.message_id("ada@example.com").endswith("@mail.example.net>")
    tomorrow = compose(issue.model_copy(update={"date": dt.date(2026, 11, 27)}), rendered, settings)
    assert tomorrow.message_id("ada@example.com") != first.message_id("ada@example.com")
    test_copy = compose(issue, rendered, settings, test_copy=True)
    assert test_copy.message_id("ada@example.com") != first.message_id("ada@example.com")
    assert _parse(test_copy.personalise(ADA))["Subject"] == f"[TEST] {issue.subject}"
    assert _parse(first.personalise(ADA))["Message-ID"] == first.message_id("ada@example.com")


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("", "mailto:news@example.org?subject=unsubscribe%20t.k"),
        ("leave@example.org", "mailto:leave@example.org?subject=unsubscribe%20t.k"),
        (
            "mailto:leave@example.org?subject=stop",
            "mailto:leave@example.org?subject=stop&subject=unsubscribe%20t.k",
        ),
        ("mailto:leave+{token}@example.org", "mailto:leave+t.k@example.org"),
    ],
)
def test_the_mailto_unsubscribe_carries_the_token(configured: str, expected: str) -> None:
    settings = _settings(unsubscribe_mailto=configured)
    raw = compose(_issue(), render_email(_issue(), settings), settings).personalise(
        Recipient(email="a@example.com", token="t.k")
    )
    assert _parse(raw)["List-Unsubscribe"].startswith(f"<{expected}>")


def test_an_issue_without_an_unsubscribe_link_is_not_sent() -> None:
    with pytest.raises(BuildError, match="no unsubscribe link"):
        compose(_issue(), RenderedEmail(html="<p>hi</p>", text="hi"), _settings())


def test_a_preview_recipient_makes_a_valid_message() -> None:
    raw = compose(_issue(), render_email(_issue(), _settings()), _settings()).personalise(
        PREVIEW_RECIPIENT
    )
    assert _parse(raw)["To"] == "Reader <reader@example.com>"


def test_dkim_signs_the_rfc_8058_headers_and_verifies(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    settings = _settings(dkim_key_file=key_file, dkim_selector="news", dkim_domain="example.org")
    raw = compose(_issue(), render_email(_issue(), settings), settings).personalise(ADA)
    assert raw.startswith(b"DKIM-Signature:")
    signed = _parse(raw)["DKIM-Signature"]
    tags = dict(
        part.strip().split("=", 1) for part in re.sub(r"\s+", "", str(signed)).split(";") if part
    )
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(
        tags["h"].lower().split(":")
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news._domainkey.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"token=YWRh.c2ln", b"token=forged"), dnsfunc=dns)


def test_half_a_dkim_configuration_is_a_config_error(tmp_path: Path) -> None:
    settings = _settings(dkim_selector="news")
    with pytest.raises(ConfigError, match="DIGEST_DKIM"):
        compose(_issue(), render_email(_issue(), settings), settings)
    missing = _settings(
        dkim_key_file=tmp_path / "none.pem", dkim_selector="news", dkim_domain="example.org"
    )
    with pytest.raises(ConfigError, match="cannot read"):
        compose(_issue(), render_email(_issue(), missing), missing)
