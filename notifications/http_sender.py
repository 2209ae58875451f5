"""Puts rendered HTTP requests on the wire: aiohttp in service (its connections only ever reach addresses the SSRF
guard judged), httpx where a test hands in a transport or mocks httpx."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

import aiohttp
import httpx
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from . import ssrf
from .ssrf import TargetRefused

# A receiver's answer is read only this far: the status is what counts, and a huge body is nobody's business.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Mapping[str, str]


class SendError(Exception):
    """The request did not get an answer (connection refused or reset, TLS failure, DNS failure)."""


class SendTimeout(SendError):
    pass


class Sender(Protocol):
    async def check(self, url: str) -> None:
        """Refuse (TargetRefused) a target the SSRF guard forbids, before anything is sent."""

    async def send(self, method: str, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        ...

    async def aclose(self) -> None:
        ...


class GuardedResolver(AbstractResolver):
    """Resolves through ssrf.resolve and refuses internal addresses unless allowed: the connection is made to the
    very addresses judged, so a name that changes its answer between check and connect (DNS rebinding) gets nowhere."""

    def __init__(self, allow_private: Callable[[], bool]):
        self.allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        try:
            addresses = await asyncio.to_thread(ssrf.resolve, host, port)
        except UnicodeError as exc:
            raise TargetRefused(f"{host} is not a valid host name") from exc
        if not self.allow_private():
            ssrf.judge(host, addresses)
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                 "proto": socket.IPPROTO_TCP, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        return None


def _literal_host(url: str) -> str | None:
    """The host as aiohttp will read it, when it is an IP literal (aiohttp connects to those without resolving)."""
    try:
        host = yarl.URL(url).raw_host
    except (ValueError, TypeError) as exc:
        raise TargetRefused("not a valid URL") from exc
    if host is None:
        raise TargetRefused("the URL has no host")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return host.strip("[]")


class AiohttpSender:
    """One aiohttp session per event loop, its pool shared by every delivery the worker sends."""

    def __init__(self, concurrency: int, allow_private: bool):
        self.concurrency, self.allow_private = concurrency, allow_private
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def check(self, url: str) -> None:
        ssrf.host_and_port(url)  # the syntax checks the subscription passed
        literal = _literal_host(url)
        if literal is not None:
            ssrf.judge(literal, [literal])
        # A name is judged by the resolver as the connection is made.

    def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # Sessions belong to the loop that made them; a caller on another loop gets its own.
            connector = aiohttp.TCPConnector(limit=self.concurrency, use_dns_cache=False,
                                             resolver=GuardedResolver(lambda: self.allow_private))
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                  headers={"User-Agent": "Vigil"})
            self._loop = loop
        return self._session

    async def send(self, method: str, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        try:
            async with self._session_here().request(method, url, data=body, headers=dict(headers),
                                                    allow_redirects=False,
                                                    timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                await response.content.read(MAX_ANSWER_BYTES)
                return Answer(response.status, response.headers)
        except asyncio.TimeoutError as exc:
            raise SendTimeout(type(exc).__name__) from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise SendError(f"DNS: {exc.os_error}") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            if isinstance(exc, TargetRefused):
                raise
            raise SendError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class HttpxSender:
    """httpx, for tests that mock it (respx) or hand in a transport; it cannot pin addresses, so the guard resolves
    and judges just before the request instead."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None):
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def check(self, url: str) -> None:
        await ssrf.check_url_async(url)

    async def send(self, method: str, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = httpx.AsyncClient(transport=self._transport, follow_redirects=False), loop
        try:
            response = await self._client.request(method, url, content=body, headers=dict(headers), timeout=timeout,
                                                  follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise SendTimeout(type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        return Answer(response.status_code, response.headers)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
