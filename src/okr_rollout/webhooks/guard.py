"""Where a webhook may be sent: absolute http(s) URLs whose host resolves only to public addresses.

A webhook URL is chosen by an API caller, and the server then makes requests to it: without this guard a
caller could make the server probe its own network (loopback admin ports, the cloud metadata address,
private services). The URL is checked when a subscription is created, again before each attempt, and the
connection itself is made only to an address that passed the check, so that a name re-pointed between the
check and the connection (DNS rebinding) cannot slip through.

An IPv6 address may lead to an IPv4 one: IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``),
6to4 (``2002:AABB:CCDD::``), Teredo (``2001::/32``, the client's address obfuscated) and NAT64
(``64:ff9b::/96``). Such an address is public only when every IPv4 address it carries is public and the IPv6
address itself is; a NAT64 address is judged by the IPv4 address it is translated to (on an IPv6-only host with
DNS64 every IPv4 receiver has one). Python's ``ipaddress`` flags are the source of truth, except that it counts
site-local ``fec0::/10``, multicast and 6to4 as global: those are checked by name.

A refusal says only that the host is not a public address: never what it resolved to, nor whether it resolved
at all, so that the API cannot be used to map the server's own network and its DNS names. The server's log
keeps the address for the operator.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from okr_rollout.texts import LocalizedText

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
logger = logging.getLogger(__name__)

NOT_PUBLIC = LocalizedText("is not a public address", "不是公開位址")
NOT_PUBLIC_RULE = "private_address"
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class RefusedAddress(ValueError):
    """The URL is not an absolute http(s) URL, or its host is not a public address. ``str()`` is the whole
    sentence (for a delivery attempt's error); ``reason`` what is wrong with the URL field, in both languages."""

    def __init__(self, message: str, *, rule: str, reason: LocalizedText) -> None:
        super().__init__(message)
        self.rule = rule
        self.reason = reason


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


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, compatible, 6to4, Teredo (server and client)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1, which are themselves
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return found


def address_kind(address: IPAddress) -> str | None:
    """The kind of non-public address this is (loopback, private…), or None for a public one. For an IPv6
    address that leads to an IPv4 one, the kind of the IPv4 address when that one is not public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_WELL_KNOWN:  # translated to the IPv4 address in its last 32 bits: that is reached
            return address_kind(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        if address.ipv4_mapped is not None:  # a dual-stack socket connects to the IPv4 address itself
            return address_kind(address.ipv4_mapped)
        for carried in embedded_ipv4(address):
            kind = address_kind(carried)
            if kind is not None:
                return kind
    for kind, flagged in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flagged:
            return kind
    # Shared (carrier-grade NAT), documentation, benchmarking ranges…: none of them is a CRM on the internet.
    return None if address.is_global else "non-global"


def _not_public(host: str) -> RefusedAddress:
    return RefusedAddress(f"host {host!r} {NOT_PUBLIC.en}", rule=NOT_PUBLIC_RULE, reason=NOT_PUBLIC)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to; RefusedAddress when it resolves to none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        logger.warning("webhook host %r refused: it does not resolve (%s)", host, error)
        raise _not_public(host) from None
    addresses: list[IPAddress] = []
    for info in infos:
        # The scope of an IPv6 link-local address ("fe80::1%eth0") is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        logger.warning("webhook host %r refused: it resolves to no address", host)
        raise _not_public(host)
    return addresses


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, all public; RefusedAddress (saying only "not a public address") otherwise."""
    addresses = resolve(host, port)
    for address in addresses:
        kind = address_kind(address)
        if kind is not None:
            logger.warning("webhook host %r refused: it resolves to %s, a %s address (webhooks reach only public "
                           "addresses unless OKR_ROLLOUT_WEBHOOKS_ALLOW_PRIVATE=true)", host, address, kind)
            raise _not_public(host)
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """RefusedAddress unless ``url`` may receive webhooks (see the module's docstring)."""
    problem = url_problem(url)
    if problem is not None:
        raise RefusedAddress(f"url {problem}", rule="url", reason=LocalizedText(problem, problem))
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
