"""Unsubscribe tokens: deterministic, URL-safe, unforgeable."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from digest.config import load_settings
from digest.errors import ConfigError
from digest.tokens import TokenSigner, verify_token

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
