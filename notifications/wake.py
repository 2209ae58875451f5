"""Cross-process wake-up on SQLite: a commit that left deliveries pokes the `vigil worker` on the same file with a
datagram, so it claims at once instead of at its next poll. Only a hint: nothing depends on it arriving (the poll
stays the fallback, the rows keep the state); PostgreSQL has LISTEN/NOTIFY instead."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import sys
from typing import Callable

log = logging.getLogger("vigil.wake")


def address(database: str | None) -> str | None:
    """The abstract Unix socket named after this SQLite file (Linux; the kernel frees it when its process dies, even
    by SIGKILL), or None: an in-memory database, or a system without abstract sockets."""
    if not database or database == ":memory:" or database.startswith("file:") or not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:32]
    return f"\0vigil-wake-{digest}"


class Poker:
    """The sending side, in a process whose own worker does not run (`vigil serve` with VIGIL_RUN_WORKER=false)."""

    def __init__(self, addr: str):
        self.addr = addr
        self._sock: socket.socket | None = None

    def poke(self) -> None:
        """One datagram, never blocking; thread-safe (one sendto per call). When no worker listens, or the
        listener's queue is full (it has wake-ups waiting already), there is nobody to tell: the next poll claims."""
        sock = self._sock
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            self._sock = sock
        try:
            sock.sendto(b"w", self.addr)
        except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
            return  # nobody listens, or it is awake already: the claim at its next poll finds these rows
        except OSError as exc:  # anything else: logged for debugging; the poll still finds the rows
            log.debug("wake-up datagram not sent: %s", exc)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Listener:
    """The receiving side, in a running worker: calls on_wake (on the event loop) when datagrams arrive, once per
    drained burst. One worker per file listens; another finds the name taken and polls (open() returns False)."""

    def __init__(self, addr: str, on_wake: Callable[[], None]):
        self.addr, self.on_wake = addr, on_wake
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def listening(self) -> bool:
        return self._sock is not None

    def open(self, loop: asyncio.AbstractEventLoop) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self.addr)
        except OSError:  # another worker on this file listens (or did not start yet to free it): poll meanwhile
            sock.close()
            return False
        sock.setblocking(False)
        self._sock, self._loop = sock, loop
        loop.add_reader(sock.fileno(), self._drain)
        return True

    def _drain(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                sock.recv(64)
            except (BlockingIOError, InterruptedError):
                break
        self.on_wake()

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
