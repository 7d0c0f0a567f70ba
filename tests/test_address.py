"""`normalise_address` gives email-validator's answer, also on its short way for plain addresses."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st

from digest.audience.address import normalise_address


def _reference(value: str) -> str:
    """email-validator alone, as digest called it before the short way."""
    try:
        result = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.ascii_email or result.normalized


def _same(value: str) -> None:
    try:
        expected = _reference(value)
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            normalise_address(value)
        assert str(raised.value) == str(exc)
        return
    assert normalise_address(value) == expected


LOCAL_CHARS = "abcXYZ09.!#$%&'*+-/=?^_`{|}~\"(),:;<>[\\] é"
DOMAIN_CHARS = "abcXYZ09.-_ é"
LABELS = ["example", "EXAMPLE", "com", "org", "test", "localhost", "invalid", "xn--bcher-kva", "1"]

addresses = st.builds(
    lambda local, domain, pad: f"{pad}{local}@{domain}{pad}",
    st.text(LOCAL_CHARS, max_size=70),
    st.one_of(
        st.text(DOMAIN_CHARS, max_size=20),
        st.lists(st.sampled_from(LABELS), min_size=1, max_size=4).map(".".join),
        st.lists(st.text("abz09-", min_size=1, max_size=64), min_size=2, max_size=5).map(".".join),
    ),
    st.sampled_from(["", " ", "\t"]),
)


@given(addresses)
def test_generated_addresses_get_email_validators_answer(value: str) -> None:
    _same(value)


@given(st.emails())
def test_valid_looking_addresses_get_email_validators_answer(value: str) -> None:
    _same(value)


@pytest.mark.parametrize(
    "value",
    [
        "Ada@Example.COM",
        "Postmaster@Example.com",
        "ABUSE@example.com",
        "ada.lovelace+news@mail.example.co.uk",
        "a@xn--bcher-kva.example",
        "a@bücher.example",
        "ada@example.test",
        "ada@localhost",
        "ada@example",
        "ada@-example.com",
        "ada@example-.com",
        "ada@example..com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@1.2.3.4",
        "ada@[127.0.0.1]",
        ".ada@example.com",
        "ada.@example.com",
        "a..da@example.com",
        '"ada"@example.com',
        '"a da"@example.com',
        "Ada <ada@example.com>",
        "ada@@example.com",
        "ada@exa@mple.com",
        "ada",
        "@example.com",
        "ada@",
        "é@example.com",
        "a" * 64 + "@example.com",
        "a" * 65 + "@example.com",
        "a" * 242 + "@example.com",
        "a" * 243 + "@example.com",
        "ada@" + ".".join(["a" * 63] * 4) + ".com",
        "ada@" + "a" * 64 + ".com",
    ],
)
def test_edge_cases_get_email_validators_answer(value: str) -> None:
    _same(value)
