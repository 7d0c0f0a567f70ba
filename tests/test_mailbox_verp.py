"""VERP addresses: short enough for a local part, signed, readable after a change of case."""

from __future__ import annotations

import pytest

from digest.audience.mailbox.verp import (
    MAX_DELIVERY,
    MAX_LOCAL_PART,
    Verp,
    check_bounce_address,
    verp_for,
)
from digest.config import load_settings

SECRET = "a-secret-key-for-tests-0123456789"
OLD = "the-old-secret-key-0123456789"


def test_an_address_names_its_delivery_and_fits_a_local_part() -> None:
    verp = Verp("bounces@example.com", [SECRET])
    for delivery in (0, 1, 41, 123_456_789, MAX_DELIVERY):
        address = verp.sender(delivery)
        local, _, domain = address.rpartition("@")
        assert domain == "example.com"
        assert local.startswith("bounces+")
        assert len(local) <= 64
        assert verp.delivery(address) == delivery
        assert verp.delivery(address.upper()) == delivery
        assert verp.delivery(f"<{address}>") == delivery


def test_the_longest_local_part_still_fits() -> None:
    base = "b" * MAX_LOCAL_PART + "@example.com"
    local = Verp(base, [SECRET]).sender(MAX_DELIVERY).rpartition("@")[0]
    assert len(local) == 64
    with pytest.raises(ValueError, match="at most 39"):
        check_bounce_address("b" * (MAX_LOCAL_PART + 1) + "@example.com")


@pytest.mark.parametrize(
    "bad", ["bounces", "@example.com", "bounces@", "a b@example.com", "x@y\r\n"]
)
def test_a_bounce_address_must_be_a_plain_address(bad: str) -> None:
    with pytest.raises(ValueError):
        check_bounce_address(bad)


def test_forged_altered_and_foreign_addresses_name_no_delivery() -> None:
    verp = Verp("bounces@example.com", [SECRET])
    address = verp.sender(42)
    local, _, domain = address.rpartition("@")
    token = local.partition("+")[2]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    other_key = Verp("bounces@example.com", ["another-secret-key-0123456789"]).sender(42)
    for candidate in (
        f"bounces+{altered}@{domain}",
        other_key,
        f"bounces+{token}@elsewhere.example",
        f"news+{token}@{domain}",
        f"bounces+{token[:-2]}@{domain}",
        f"bounces+{'!' * len(token)}@{domain}",
        "bounces@example.com",
        "",
    ):
        assert verp.delivery(candidate) is None, candidate
    assert verp.find(["someone@example.org", other_key, address]) == 42


def test_a_previous_key_still_reads_old_bounces() -> None:
    old = Verp("bounces@example.com", ["the-old-secret-key-0123456789"]).sender(7)
    rotated = Verp("bounces@example.com", [SECRET, "the-old-secret-key-0123456789"])
    assert rotated.delivery(old) == 7
    assert rotated.sender(7) != old
    assert rotated.delivery(rotated.sender(7)) == 7


def test_a_delivery_id_too_large_for_the_token_is_refused() -> None:
    with pytest.raises(ValueError):
        Verp("bounces@example.com", [SECRET]).sender(MAX_DELIVERY + 1)


def test_the_settings_verp_reads_bounces_signed_with_the_previous_key() -> None:
    assert verp_for(load_settings(secret_key=SECRET)) is None
    old = verp_for(load_settings(secret_key=OLD, bounce_address="bounces@example.com"))
    rotated = verp_for(
        load_settings(
            secret_key=SECRET, secret_key_previous=OLD, bounce_address="bounces@example.com"
        )
    )
    assert old is not None and rotated is not None
    assert rotated.delivery(old.sender(11)) == 11
    assert rotated.sender(11) != old.sender(11)
