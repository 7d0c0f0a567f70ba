"""No test reaches past this machine: a guard, not a fake.

Every socket connect and datagram in the test process, and every host name it resolves, is seen
by an audit hook (PEP 578, `sys.addaudithook`); one aimed anywhere but loopback is refused with
`ENETUNREACH`, as a closed network would refuse it, and the test that made it fails, whatever it
did with the refusal. So no test passes because the outside network happens to be closed (on
this machine) or open (on a developer's): a test that builds from real feeds sets
`fetch_sources_only` (DIGEST_FETCH_SOURCES_ONLY, the product's own "read nothing but the sources")
and so never asks. Nothing is answered on anyone's behalf: loopback traffic goes through
untouched, and so does every other operation.

Processes a test starts (`python -m digest …`, Chromium) are not in this process's audit; the CLI
tests build from files with documentation domains (example.com), which digest never fetches, and
Chromium pages abort every request off loopback (`tests/support/browser.py`).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from collections.abc import Iterator

import pytest

LOOPBACK_NAMES = ("localhost", "localhost.", socket.gethostname().lower())
"""Names of this machine (its own host name is looked up where the desk lists the names it
answers to, and in a mail client's greeting)."""
_attempts: list[str] = []
"""What the running test tried to reach beyond loopback (the hook has no other way to report)."""


def _address(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`host` as an IP address (IPv4-mapped IPv6 as its IPv4 address); None for a name."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        address = ipaddress.ip_address(name.partition("%")[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_loopback(host: object) -> bool:
    if host is None:
        return True  # a passive lookup: the wildcard address to bind to
    address = _address(host)
    if address is not None:
        return address.is_loopback
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower()
    return name in ("", *LOOPBACK_NAMES) or name.endswith(".localhost")


def _target(event: str, args: tuple[object, ...]) -> tuple[object, str] | None:
    """The host an event would reach, and how to name it; None when it reaches no host."""
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        # An IP address is taken as it is written, without a lookup: only names go anywhere.
        return None if _address(args[0]) is not None else (args[0], f"resolve {args[0]!r}")
    if event == "socket.gethostbyaddr":
        return args[0], f"look up the name of {args[0]!r}"
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        family = getattr(sock, "family", None)
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            return address[0], f"{event.removeprefix('socket.')} to {address[:2]!r}"
    return None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not event.startswith("socket."):
        return
    target = _target(event, args)
    if target is None or _is_loopback(target[0]):
        return
    _attempts.append(target[1])
    raise OSError(errno.ENETUNREACH, f"tests reach nothing beyond loopback ({target[1]})")


def pytest_configure(config: pytest.Config) -> None:
    sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[None]:
    """Fails the test that tried to reach beyond loopback (the attempt itself was refused)."""
    _attempts.clear()
    yield
    tried, _attempts[:] = list(_attempts), []
    assert not tried, f"this test tried to reach beyond loopback: {'; '.join(tried)}"
