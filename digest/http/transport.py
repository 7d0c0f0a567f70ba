"""Where the fetch policy (`digest.http.policy`) is enforced: in the connection itself.

Every request, redirect hops included (httpx hands each hop to the transport), goes one of two
ways. A URL allowed to reach non-public addresses (a configured source, its own site, an allowed
host) uses an ordinary connection pool. Any other URL uses a pool whose sockets come from
`PublicOnly`, which resolves the host once and connects only to a public address among the
answers: the address checked is the address connected to, so a name that resolves to a public
address when checked and to 127.0.0.1 a moment later (DNS rebinding) cannot get through, and a
connection kept alive in one pool is never reused by a request that belongs to the other. TLS is
negotiated by httpcore as usual, for the URL's host name (SNI and certificate checks unchanged).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from digest.http.policy import FetchPolicy, IPAddress, address_kind

SOURCE = "digest.source"
"""Request extension: the configured source a URL came from (the URL itself for a source);
httpx carries it along to every redirect hop."""


class PrivateAddress(Exception):
    """A URL from content led to a non-public address outside its source's site."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
        literal = host.strip("[]") == str(address)
        super().__init__(f"{host} is {what}" if literal else f"{host} is {address}, {what}")
        self.host = host
        self.address = address
        self.kind = kind


class PublicOnly(httpcore.NetworkBackend):
    """httpcore's own socket backend, connecting only to public addresses."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        refused: PrivateAddress | None = None
        failure: httpcore.ConnectError | None = None
        for address in _resolve(host, port):
            kind = address_kind(address)
            if kind is not None:
                refused = refused or PrivateAddress(host, address, kind)
                continue
            try:
                return self._backend.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        if failure is not None:
            raise failure
        assert refused is not None  # _resolve returns at least one address
        raise refused

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never reached from content")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (an IP literal is itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(str(exc)) from None
    addresses = [ipaddress.ip_address(info[4][0].partition("%")[0]) for info in infos]
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    return list(dict.fromkeys(addresses))


class _PublicTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose sockets come from `PublicOnly` (httpx does
    not take a network backend, httpcore's pool does)."""

    def __init__(self, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=verify, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnly(),
        )


class PolicyTransport(httpx.BaseTransport):
    """Sends each request (and each redirect hop) through the pool its URL may use."""

    def __init__(self, policy: FetchPolicy, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self.policy = policy
        self._anywhere = httpx.HTTPTransport(verify=verify, limits=limits)
        self._public = _PublicTransport(verify, limits)

    def may_reach_private(self, request: httpx.Request) -> bool:
        source = request.extensions.get(SOURCE, "")
        return isinstance(source, str) and self.policy.may_reach_private(str(request.url), source)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.may_reach_private(request):
            return self._anywhere.handle_request(request)
        return self._public.handle_request(request)

    def close(self) -> None:
        self._anywhere.close()
        self._public.close()
