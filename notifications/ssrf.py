"""The SSRF guard: webhook and chat targets may not resolve to loopback, private, link-local or metadata addresses."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Iterable

import httpx


class TargetRefused(ValueError):
    pass


def blocked_reason(address: str) -> str | None:
    """Why an IP address is not a safe target, or None if it is a public address."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for check, reason in ((ip.is_loopback, "loopback"), (ip.is_link_local, "link-local (cloud metadata)"),
                          (ip.is_private, "private"), (ip.is_multicast, "multicast"),
                          (ip.is_unspecified, "unspecified"), (ip.is_reserved, "reserved")):
        if check:
            return reason
    if not ip.is_global:  # shared (carrier NAT, overlay networks), documentation and other special ranges
        return "non-public"
    return None


def _judge(host: str, addresses: Iterable[str]) -> None:
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            raise TargetRefused(f"{host} resolves to a {reason} address; set VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS "
                                "to allow it")


def _host_port(url: str) -> tuple[str, int]:
    parsed = httpx.URL(url)
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (one place, so tests can play a DNS server that changes its mind)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_url(url: str) -> None:
    """At subscription time: refuse a target that resolves (now) to an internal address, or not at all."""
    host, port = _host_port(url)
    try:
        addresses = resolve(host, port)
    except socket.gaierror as exc:
        raise TargetRefused(f"{host} does not resolve") from exc
    _judge(host, addresses)


async def check_url_async(url: str) -> None:
    """At send time, because DNS can change after the subscription was accepted."""
    host, port = _host_port(url)
    _judge(host, await asyncio.to_thread(resolve, host, port))
