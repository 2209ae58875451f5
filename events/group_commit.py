"""Group commit: appends that arrive while another commit is running are written together, by one leader."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


@dataclass
class Outcome(Generic[Result]):
    """What one request of a batch came to: its result, or the error its caller gets."""
    result: Result | None = None
    error: BaseException | None = None


class _Pending(Generic[Request, Result]):
    __slots__ = ("request", "outcome")

    def __init__(self, request: Request):
        self.request = request
        self.outcome: Outcome[Result] | None = None


class GroupCommit(Generic[Request, Result]):
    """Leader/follower group commit, as databases do it for their log.

    A caller queues its request and waits for the leader's lock. Whoever gets it takes every request queued by
    then (its own among them, unless an earlier leader already wrote it) and hands them to `write_batch`, which
    writes them in one transaction and answers with one Outcome each, in order. Callers that arrived while a
    batch was being written wait for that batch's commit and then form the next batch together, so a lone
    caller never waits for anyone: there is no timer, only the commit already in progress."""

    def __init__(self, write_batch: Callable[[Sequence[Request]], list[Outcome[Result]]]):
        self._write_batch = write_batch
        self._queue: list[_Pending[Request, Result]] = []
        self._queued = threading.Lock()  # guards the queue only, held for an append or a swap
        self._leader = threading.Lock()  # held by the thread writing a batch

    def submit(self, request: Request) -> Result:
        """Write `request` (perhaps with others) and return its result once its commit is durable, or raise its
        own error."""
        pending: _Pending[Request, Result] = _Pending(request)
        with self._queued:
            self._queue.append(pending)
        with self._leader:
            if pending.outcome is None:
                with self._queued:
                    batch, self._queue = self._queue, []
                self._lead(batch)
        outcome = pending.outcome
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

    def _lead(self, batch: list[_Pending[Request, Result]]) -> None:
        try:
            outcomes = self._write_batch([p.request for p in batch])
        except BaseException as failure:
            # The batch's transaction failed as a whole (its connection lost, its commit refused): nobody in it
            # was written, or nobody can be told they were. Every caller gets the error.
            for pending in batch:
                pending.outcome = Outcome(error=failure)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome
