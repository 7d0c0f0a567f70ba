"""Signed tokens: unsubscribe tokens deterministic, URL-safe and unforgeable; each purpose its own;
confirm and form tokens stamped with their time; old links valid after a key rotation."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable

import pytest

from digest.config import load_settings
from digest.errors import ConfigError
from digest.tokens import Purpose, Stamped, TokenSigner, signer, verify_token

SECRET = "correct horse battery staple"


def test_a_token_verifies_to_its_address_whatever_the_case() -> None:
    signer = TokenSigner(SECRET)
    token = signer.sign("Ada@Example.com")
    assert token == signer.sign("ada@example.com")
    assert signer.verify(token) == "ada@example.com"
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: TokenSigner(SECRET).sign("eve@example.com").split(".")[0] + "." + t.split(".")[1],
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: "%%%.###",
        lambda t: t + ".extra",
    ],
)
def test_altered_or_garbled_tokens_are_refused(tamper: Callable[[str], str]) -> None:
    token = TokenSigner(SECRET).sign("ada@example.com")
    assert TokenSigner(SECRET).verify(tamper(token)) is None


def test_another_secret_does_not_verify() -> None:
    token = TokenSigner(SECRET).sign("ada@example.com")
    assert TokenSigner(SECRET + "!").verify(token) is None


def test_a_short_or_missing_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DIGEST_SECRET_KEY"):
        TokenSigner("short")
    with pytest.raises(ConfigError, match="DIGEST_SECRET_KEY"):
        verify_token("x.y", load_settings())


@pytest.mark.parametrize(
    "weak",
    ["a" * 40, "abcdefghijklmnopqrstuvwxyz", "changeme-changeme-changeme", "passwordpassword1234"],
)
def test_a_long_secret_with_too_little_variety_is_refused_with_how_to_make_one(weak: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TokenSigner(weak)
    message = str(caught.value)
    assert message.startswith("DIGEST_SECRET_KEY: too easy to guess (")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert weak not in message


def test_generated_secrets_and_passphrases_are_accepted() -> None:
    for secret in (secrets.token_urlsafe(32), secrets.token_hex(16), SECRET):
        assert TokenSigner(secret).verify(TokenSigner(secret).sign("a@example.com"))


def test_verify_token_reads_the_secret_from_settings() -> None:
    settings = load_settings(secret_key=SECRET)
    assert verify_token(TokenSigner(SECRET).sign("bob@example.com"), settings) == "bob@example.com"
    assert "correct horse" not in repr(settings)


# --- purposes, key rotation, stamped tokens ---

NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_links_in_mail_already_sent_keep_working() -> None:
    """The token digest has always put in List-Unsubscribe and the footer, pinned byte for byte."""
    legacy = "YWRhQGV4YW1wbGUuY29t.UO4w9-VXfPqOPhXBojJAjw"
    assert TokenSigner(SECRET).sign("ada@example.com") == legacy
    assert TokenSigner(SECRET).verify(legacy) == "ada@example.com"


def test_old_unsubscribe_links_work_after_a_key_rotation() -> None:
    old = TokenSigner(SECRET).sign("ada@example.com")
    rotated = TokenSigner("a brand new secret key, 2027", [SECRET])
    assert rotated.verify(old) == "ada@example.com"
    assert rotated.sign("ada@example.com") != old
    assert rotated.verify(rotated.sign("ada@example.com")) == "ada@example.com"
    assert TokenSigner("a brand new secret key, 2027").verify(old) is None


def test_the_previous_key_is_read_from_settings_and_checked() -> None:
    settings = load_settings(secret_key="a brand new secret key, 2027", secret_key_previous=SECRET)
    assert verify_token(TokenSigner(SECRET).sign("bob@example.com"), settings) == "bob@example.com"
    with pytest.raises(ConfigError, match="DIGEST_SECRET_KEY_PREVIOUS"):
        signer(load_settings(secret_key=SECRET, secret_key_previous="short"))


def test_tokens_of_one_purpose_are_refused_for_another() -> None:
    signer_ = TokenSigner(SECRET)
    unsubscribe = signer_.sign("ada@example.com")
    confirm = signer_.stamp(Purpose.CONFIRM, "ada@example.com", NOW)
    form = signer_.stamp(Purpose.FORM, "nonce", NOW)
    assert signer_.unstamp(Purpose.CONFIRM, unsubscribe, now=NOW, max_age=DAY) is None
    assert signer_.unstamp(Purpose.FORM, confirm, now=NOW, max_age=DAY) is None
    assert signer_.unstamp(Purpose.CONFIRM, form, now=NOW, max_age=DAY) is None
    assert signer_.verify(confirm) is None
    assert signer_.verify(form) is None
    # The same payload sealed for two purposes gives two different MACs.
    payload = b"ada@example.com"
    assert signer_.seal(Purpose.CONFIRM, payload) != signer_.seal(Purpose.UNSUBSCRIBE, payload)


def test_a_stamped_token_gives_its_value_and_time_until_it_is_too_old() -> None:
    signer_ = TokenSigner(SECRET)
    token = signer_.stamp(Purpose.CONFIRM, "ada@example.com", NOW)
    claim = signer_.unstamp(
        Purpose.CONFIRM, token, now=NOW + dt.timedelta(hours=47), max_age=2 * DAY
    )
    assert claim == Stamped("ada@example.com", NOW)
    assert (
        signer_.unstamp(
            Purpose.CONFIRM, token, now=NOW + 2 * DAY + dt.timedelta(seconds=1), max_age=2 * DAY
        )
        is None
    )
    assert (
        signer_.unstamp(Purpose.CONFIRM, token, now=NOW - dt.timedelta(hours=1), max_age=2 * DAY)
        is None
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"ada@example.com",
        b":ada@example.com",
        b"12x:ada@example.com",
        b"9" * 40 + b":a",
        b"\xff\xfe:a",
    ],
)
def test_a_genuine_seal_without_a_valid_stamp_is_refused(payload: bytes) -> None:
    signer_ = TokenSigner(SECRET)
    token = signer_.seal(Purpose.CONFIRM, payload)
    assert signer_.unstamp(Purpose.CONFIRM, token, now=NOW, max_age=DAY) is None


@pytest.mark.parametrize(
    "token",
    ["", ".", "a.b.c", "YWRh", "x" * 100_000, "YWRh.\u00e9\u00e9", "YWRh.QQ\r\n", "%2e%2e.%2f"],
)
def test_garbage_is_refused_without_an_exception(token: str) -> None:
    signer_ = TokenSigner(SECRET)
    assert signer_.verify(token) is None
    assert signer_.unstamp(Purpose.CONFIRM, token, now=NOW, max_age=DAY) is None
