"""service/thread_hop.in_thread: the answer, the error, the context variables and cancellation, as to_thread gives."""
from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from service.thread_hop import in_thread

WHO = contextvars.ContextVar("who", default="nobody")


def test_the_call_runs_in_another_thread_with_the_callers_context_and_its_answer_comes_back():
    async def main():
        WHO.set("caller")
        return await in_thread(lambda a, b=0: (threading.get_ident(), WHO.get(), a + b), 1, b=2)
    ident, who, total = asyncio.run(main())
    assert ident != threading.get_ident() and who == "caller" and total == 3


def test_the_calls_error_is_raised_in_the_awaiting_task():
    def fails():
        raise LookupError("boom")

    async def main():
        await in_thread(fails)
    with pytest.raises(LookupError, match="boom"):
        asyncio.run(main())


def test_a_call_cancelled_before_it_starts_never_runs():
    ran, release, started = [], threading.Event(), threading.Semaphore(0)

    def hold():
        started.release()
        release.wait(10)

    async def main():
        # Hold every worker so that the next call waits in the queue, then cancel its task.
        from service.thread_hop import POOL
        blockers = [asyncio.ensure_future(in_thread(hold)) for _ in range(POOL._max_workers)]
        await asyncio.sleep(0)  # the tasks submit their calls
        for _ in blockers:
            assert started.acquire(timeout=10)  # every worker now holds one (they need nothing of this loop)
        waiting = asyncio.ensure_future(in_thread(ran.append, "ran"))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting  # its cancellation has run while every worker is still held
        release.set()
        await asyncio.gather(*blockers)
    asyncio.run(main())
    assert ran == []
