"""The worker's recorder: outcomes of a burst share one transaction; a lone outcome is recorded at once."""
from __future__ import annotations

import asyncio

from sqlalchemy import create_engine

from notifications import worker as worker_module
from notifications.worker import DeliveryWorker

from events.clock import SystemClock


def make_worker(linger: float) -> tuple[DeliveryWorker, list[list]]:
    worker = DeliveryWorker(create_engine("sqlite://"), SystemClock(), None, "http://vigil.test", None,
                            lambda case_id: None, record_linger=linger)
    recorded: list[list] = []
    worker.record = lambda attempts: recorded.append(list(attempts)) or ["delivered"] * len(attempts)
    return worker, recorded


async def until(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.001)


def test_outcomes_arriving_while_a_burst_is_sent_are_recorded_together():
    async def scenario():
        worker, recorded = make_worker(linger=0.2)
        running = {asyncio.get_running_loop().create_future() for _ in range(worker_module.LINGER_FROM)}
        results: asyncio.Queue = asyncio.Queue()
        recorder = asyncio.create_task(worker._record_from(results, running))
        await results.put("a1")
        await asyncio.sleep(0)  # the recorder takes the first and waits for more, as sends are still running
        await asyncio.sleep(0)
        for outcome in ("a2", "a3", "a4"):
            await results.put(outcome)
        await until(lambda: recorded)
        await results.put(None)
        await recorder
        for future in running:
            future.cancel()
        return recorded

    assert asyncio.run(scenario()) == [["a1", "a2", "a3", "a4"]]


def test_a_lone_outcome_is_recorded_without_waiting():
    async def scenario():
        worker, recorded = make_worker(linger=60)  # were it to wait, the test would time out
        finished = asyncio.get_running_loop().create_future()
        finished.set_result(None)
        results: asyncio.Queue = asyncio.Queue()
        recorder = asyncio.create_task(worker._record_from(results, {finished}))
        await results.put("a1")
        await until(lambda: recorded)
        await results.put("a2")
        await until(lambda: len(recorded) == 2)
        await results.put(None)
        await recorder
        return recorded

    assert asyncio.run(scenario()) == [["a1"], ["a2"]]


def test_a_burst_of_outcomes_waits_for_the_next_ones_though_nothing_is_running():
    async def scenario():
        worker, recorded = make_worker(linger=0.2)
        results: asyncio.Queue = asyncio.Queue()
        for n in range(worker_module.LINGER_FROM):
            results.put_nowait(f"a{n}")
        recorder = asyncio.create_task(worker._record_from(results, set()))
        await asyncio.sleep(0)  # the recorder takes the burst and waits for more
        await asyncio.sleep(0)
        await results.put("late")
        await until(lambda: recorded)
        await results.put(None)
        await recorder
        return recorded

    assert asyncio.run(scenario()) == [[*(f"a{n}" for n in range(worker_module.LINGER_FROM)), "late"]]
