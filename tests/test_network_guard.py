"""The guard that keeps every test on loopback (`tests/support/network_guard.py`). Events are
raised with `sys.audit`, so a guard that failed to refuse would still send nothing."""

from __future__ import annotations

import errno
import socket
import sys

import pytest

from tests.support import network_guard


def test_a_lookup_or_connection_beyond_loopback_is_refused_and_remembered() -> None:
    with socket.socket() as sock:
        for event, args in [
            ("socket.getaddrinfo", ("news.example.org", 443, 0, 0, 0)),
            ("socket.connect", (sock, ("203.0.113.9", 443))),
            ("socket.sendto", (sock, ("2001:db8::1", 53, 0, 0))),
        ]:
            with pytest.raises(OSError) as refused:
                sys.audit(event, *args)
            assert refused.value.errno == errno.ENETUNREACH
    assert network_guard._attempts == [
        "resolve 'news.example.org'",
        "connect to ('203.0.113.9', 443)",
        "sendto to ('2001:db8::1', 53)",
    ]
    network_guard._attempts.clear()  # refused on purpose: this test is not to fail for them


def test_loopback_and_local_sockets_pass() -> None:
    with socket.socket() as sock, socket.socket(socket.AF_UNIX) as local:
        sys.audit("socket.getaddrinfo", "localhost", 443, 0, 0, 0)
        sys.audit("socket.getaddrinfo", "127.0.0.1", 443, 0, 0, 0)
        sys.audit("socket.getaddrinfo", "10.1.2.3", 443, 0, 0, 0)  # taken as written
        sys.audit("socket.getaddrinfo", None, 0, 0, 0, 0)
        sys.audit("socket.getaddrinfo", socket.gethostname(), 0, 0, 0, 0)
        sys.audit("socket.connect", sock, ("127.0.0.1", 80))
        sys.audit("socket.connect", sock, ("::1", 80, 0, 0))
        sys.audit("socket.connect", sock, ("::ffff:127.0.0.1", 80, 0, 0))
        sys.audit("socket.connect", local, "/run/some.sock")
    assert network_guard._attempts == []
