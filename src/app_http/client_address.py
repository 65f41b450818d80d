"""Who the client is, by network address: the socket peer, or what a trusted proxy says.

``X-Forwarded-For`` / ``Forwarded`` are believed only when the socket peer is one of
``CHATCORE_TRUSTED_PROXIES``: anyone else could write anything there. The chain is walked from the
right (the hop nearest to us), skipping trusted proxies; the first address that is not one is
the client. Entries to its left were written by the client itself and are never used.
``X-Forwarded-For`` wins when both headers came: a proxy that writes only ``Forwarded`` must
drop an ``X-Forwarded-For`` the client sent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(raw: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16, ::1"`` as networks; raises ``ValueError`` naming a bad item."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def client_address(scope: Any, trusted: Sequence[Network]) -> str:
    """The client's address for ``scope`` (an ASGI HTTP scope): text, never empty."""
    peer = scope.get("client")
    peer_host = str(peer[0]) if peer else ""
    peer_ip, peer_text = _peer(peer_host)
    if peer_ip is None:
        return peer_host or UNKNOWN  # a test client, a Unix socket: nothing to resolve
    if not _is_trusted(peer_ip, trusted):
        return peer_text
    hops = _forwarded_chain(scope.get("headers", ()))
    client = peer_ip
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break  # garbage where a proxy should have written an address: keep the last good hop
        client = ip
        if not _is_trusted(ip, trusted):
            break
    return str(client)


def _is_trusted(ip: Address, trusted: Iterable[Network]) -> bool:
    return any(ip in network for network in trusted)


@lru_cache(maxsize=1024)
def _peer(host: str) -> tuple[Address | None, str]:
    """The socket peer's address and its text, worked out once per peer (per worker, for the
    last 1024 peers): parsing one costs about a third of the request's log line."""
    ip = _ip(host)
    return ip, host if ip is None else str(ip)


def _ip(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The hops, leftmost first, from every ``X-Forwarded-For`` (else ``Forwarded``) header."""
    xff: list[str] = []
    forwarded: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            xff.extend(part.strip() for part in value.decode("latin-1").split(","))
        elif name == b"forwarded":
            forwarded.extend(_forwarded_for(value.decode("latin-1")))
    return xff if xff else forwarded


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` node of each element of an RFC 7239 ``Forwarded`` header, without the port."""
    hops = []
    for element in value.split(","):
        node = ""
        for pair in element.split(";"):
            name, _, raw = pair.partition("=")
            if name.strip().lower() == "for":
                node = raw.strip().strip('"')
        if node.startswith("["):  # "[2001:db8::1]:4711"
            node = node[1:].partition("]")[0]
        elif node.count(":") == 1:  # "192.0.2.60:8080"
            node = node.partition(":")[0]
        hops.append(node)
    return hops


def client_of(scope: Any) -> str:
    """:func:`client_address` with the app's ``CHATCORE_TRUSTED_PROXIES``, worked out once per
    request (the request log line and the login throttle ask for it)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if "client" not in state:
        state["client"] = client_address(scope, scope["litestar_app"].state.trusted_proxies)
    client: str = state["client"]
    return client
