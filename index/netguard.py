"""Refuse to fetch from addresses that are not on the public internet (SSRF guard).

Feeds and article pages are fetched on behalf of strangers: a feed entry whose link points
at ``http://169.254.169.254/`` or ``http://localhost:8080/admin`` would otherwise get that
page fetched, stored and quoted to any Telegram user. The check runs where the socket is
opened: the host name is resolved there, every address it resolves to is checked, and the
connection goes to a checked address — so a redirect hop, a second DNS answer (rebinding)
or an IPv4-mapped IPv6 address cannot slip past a check made earlier.

Operators who run an internal feed name its host, IP or network in ``NEWSBOT_FETCH_ALLOW``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(OSError):
    """A host resolved to an address newsbot must not fetch from; the message says which
    and how to allow it."""


@dataclass(frozen=True, slots=True)
class FetchAllow:
    """What ``NEWSBOT_FETCH_ALLOW`` permits besides public addresses: host names (any
    letter case) and IP addresses or networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> FetchAllow:
        """``["feeds.intranet", "10.1.2.3", "192.168.0.0/16"]`` → a ``FetchAllow``."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address in net for net in self.networks
                   if net.version == address.version)


def non_public_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return non_public_reason(address.ipv4_mapped)
    for reason, flag in (("a loopback", address.is_loopback),
                         ("a link-local", address.is_link_local),
                         ("a multicast", address.is_multicast),
                         ("an unspecified", address.is_unspecified),
                         ("a reserved", address.is_reserved),
                         ("a private", address.is_private)):
        if flag:
            return reason
    if not address.is_global:
        return "a non-public"
    return None


def checked_addresses(host: str, port: int, allow: FetchAllow) -> list[str]:
    """Every address ``host`` resolves to, if all of them may be fetched from; otherwise
    ``AddressRefused`` naming the first that may not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = non_public_reason(address)
        if reason is not None and not allow.allows(host, address):
            shown = host if host == text else f"{host} ({text})"
            raise AddressRefused(
                f"refused: {shown} is {reason} address; list it in NEWSBOT_FETCH_ALLOW "
                "to fetch from it")
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, connecting only to checked addresses."""

    def __init__(self, allow: FetchAllow) -> None:
        self._allow = allow
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self._allow)
        error: Exception | None = None
        for address in addresses:  # as socket.create_connection would, but checked
            try:
                return self._backend.connect_tcp(address, port, timeout, local_address,
                                                 socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise AddressRefused("refused: unix sockets are never fetched from")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def guarded_transport(allow: FetchAllow) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through ``GuardedBackend``. Proxies
    from the environment are not used: a proxy would resolve and connect for us."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx takes no network backend, so its connection pool is replaced by one with the
    # same TLS context and ours. (tests/index/test_netguard.py fails if this stops working.)
    transport._pool = httpcore.ConnectionPool(  # noqa: SLF001
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=GuardedBackend(allow))
    return transport
