"""The SQLite wake-up datagram: a poke reaches the one listener on a file's name; with nobody listening it is a no-op."""
from __future__ import annotations

import asyncio
import sys
import uuid

import pytest

from notifications import wake

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract Unix sockets are Linux's")


def test_address_is_per_file_and_none_without_one(tmp_path):
    a, b = wake.address(str(tmp_path / "a.db")), wake.address(str(tmp_path / "b.db"))
    assert a and b and a != b and a.startswith("\0")
    assert wake.address(str(tmp_path / "a.db")) == a
    assert wake.address(None) is None and wake.address(":memory:") is None


def test_poke_wakes_the_listener_and_a_second_listener_cannot_bind(tmp_path):
    addr = wake.address(str(tmp_path / f"{uuid.uuid4()}.db"))
    poker = wake.Poker(addr)
    poker.poke()  # nobody listens yet: nothing raised

    async def run() -> int:
        woken = asyncio.Event()
        count = 0

        def on_wake() -> None:
            nonlocal count
            count += 1
            woken.set()

        listener = wake.Listener(addr, on_wake)
        assert listener.open(asyncio.get_running_loop())
        second = wake.Listener(addr, on_wake)
        assert not second.open(asyncio.get_running_loop()) and not second.listening
        try:
            for _ in range(3):  # a burst: drained together
                poker.poke()
            await asyncio.wait_for(woken.wait(), timeout=5)
        finally:
            listener.close()
        assert second.open(asyncio.get_running_loop())  # the name is free again once the first closed
        second.close()
        return count

    assert asyncio.run(run()) >= 1
    poker.poke()  # the listener is gone: still nothing raised
    poker.close()
