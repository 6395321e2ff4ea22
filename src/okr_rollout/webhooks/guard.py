"""Where a webhook may be sent: absolute http(s) URLs whose host resolves only to public addresses.

A webhook URL is chosen by an API caller, and the server then makes requests to it: without this guard a
caller could make the server probe its own network (loopback admin ports, the cloud metadata address,
private services). The URL is checked when a subscription is created, again before each attempt, and the
connection itself is made only to an address that passed the check, so that a name re-pointed between the
check and the connection (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(ValueError):
    """The URL's host resolves to an address webhooks may not reach (or does not resolve at all)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL, or None when it is."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "must name a host (an absolute URL)"
    if port == 0:
        return "must not use port 0"
    return None


def address_kind(address: IPAddress) -> str | None:
    """The kind of non-public address this is (loopback, private…), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_kind(address.ipv4_mapped)
    for kind, flagged in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flagged:
            return kind
    # Shared (carrier-grade NAT), documentation, benchmarking ranges…: none of them is a CRM on the internet.
    return None if address.is_global else "non-global"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to; RefusedAddress when it resolves to none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise RefusedAddress(f"host {host!r} does not resolve ({error})", rule="unresolvable_host") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # The scope of an IPv6 link-local address ("fe80::1%eth0") is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedAddress(f"host {host!r} does not resolve", rule="unresolvable_host")
    return addresses


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, all public; RefusedAddress naming the first that is not."""
    addresses = resolve(host, port)
    for address in addresses:
        kind = address_kind(address)
        if kind is not None:
            raise RefusedAddress(
                f"host {host!r} resolves to {address}, a {kind} address; webhooks reach only public addresses "
                "unless OKR_ROLLOUT_WEBHOOKS_ALLOW_PRIVATE=true",
                rule="private_address",
            )
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """RefusedAddress unless ``url`` may receive webhooks (see the module's docstring)."""
    problem = url_problem(url)
    if problem is not None:
        raise RefusedAddress(f"url {problem}", rule="url")
    if allow_private:
        return
    parts = urlsplit(url)
    assert parts.hostname is not None  # url_problem() made sure
    checked_addresses(parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80))


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to the checked addresses of a host, so the address used is the address checked."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except RefusedAddress as refused:
            raise httpcore.ConnectError(str(refused)) from None
        last: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                # TLS still verifies the certificate against ``host``: httpcore passes the origin's name on.
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting through GuardedBackend; never through a proxy (that would bypass it)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            network_backend=GuardedBackend(),
        )


def transport(*, allow_private: bool) -> httpx.HTTPTransport:
    return httpx.HTTPTransport(trust_env=False) if allow_private else GuardedTransport()
