"""The SSRF guard: webhook and chat targets may not resolve to loopback, private, link-local or metadata addresses."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Iterable

import httpx


class TargetRefused(ValueError):
    pass


IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: each network places the IPv4 address its own way
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # the deprecated ::a.b.c.d


def embedded_ipv4(ip: IPv6) -> list[tuple[str, IPv4]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form that carries it."""
    found: list[tuple[str, IPv4]] = []
    if ip.ipv4_mapped:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    if ip.sixtofour:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo:
        server, client = ip.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    if ip in NAT64:
        found.append(("NAT64", IPv4(int(ip) & 0xFFFFFFFF)))
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are not IPv4 addresses
        found.append(("IPv4-compatible", IPv4(int(ip) & 0xFFFFFFFF)))
    return found


def _own_reason(ip: IPv4 | IPv6) -> str | None:
    for check, reason in ((ip.is_loopback, "loopback"), (ip.is_link_local, "link-local (cloud metadata)"),
                          (ip.is_private, "private"), (ip.is_multicast, "multicast"),
                          (ip.is_unspecified, "unspecified"), (ip.is_reserved, "reserved")):
        if check:
            return reason
    if not ip.is_global:  # shared (carrier NAT, overlay networks), documentation and other special ranges
        return "non-public"
    return None


def blocked_reason(address: str) -> str | None:
    """Why an IP address is not a safe target, or None if it is a public address."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, IPv4):
        return _own_reason(ip)
    if ip.ipv4_mapped:  # the socket connects to the IPv4 address itself
        return _own_reason(ip.ipv4_mapped)
    if ip in NAT64_LOCAL:
        return "non-public (local-use NAT64)"
    # A translator or tunnel would carry the packets on to the embedded IPv4 address: it must be public too.
    for form, inner in embedded_ipv4(ip):
        reason = _own_reason(inner)
        if reason:
            return f"{reason} (inside a {form} IPv6 address)"
    if ip in NAT64:  # the IPv6 address itself lies in reserved space; what matters is where it leads
        return None
    return _own_reason(ip)


def host_problem(raw_host: bytes | str) -> str | None:
    """Why a URL's host (as sent on the wire: ASCII, IDNA-encoded) can never be looked up, or None if it can."""
    host = raw_host.decode("ascii", "replace") if isinstance(raw_host, bytes) else raw_host
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name may end in a dot
    if not name.isascii() or len(name) > 253:
        return "host name is too long or not ASCII"
    if any(not 1 <= len(label) <= 63 for label in name.split(".")):
        return "host name has an empty label or a label longer than 63 characters"
    return None


def judge(host: str, addresses: Iterable[str]) -> None:
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            raise TargetRefused(f"{host} resolves to a {reason} address; set VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS "
                                "to allow it")


def host_and_port(url: str) -> tuple[str, int]:
    """The host as looked up (IDNA-encoded ASCII, never re-encoded by the resolver) and the port."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError (IDNA) is a ValueError
        raise TargetRefused("not a valid URL") from exc
    problem = host_problem(host)
    if problem:
        raise TargetRefused(problem)
    return host, parsed.port or (443 if parsed.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (one place, so tests can play a DNS server that changes its mind)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_url(url: str) -> None:
    """At subscription time: refuse a target that resolves (now) to an internal address, or not at all."""
    host, port = host_and_port(url)
    try:
        addresses = resolve(host, port)
    except socket.gaierror as exc:
        raise TargetRefused(f"{host} does not resolve") from exc
    except UnicodeError as exc:  # the resolver's own IDNA step; host_problem should have caught it already
        raise TargetRefused(f"{host} is not a valid host name") from exc
    judge(host, addresses)


async def check_url_async(url: str) -> None:
    """At send time, because DNS can change after the subscription was accepted."""
    host, port = host_and_port(url)
    try:
        addresses = await asyncio.to_thread(resolve, host, port)
    except UnicodeError as exc:
        raise TargetRefused(f"{host} is not a valid host name") from exc
    judge(host, addresses)
