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

    A caller queues its request. If no batch is being written, it leads: it takes every request queued by then
    and hands them to `write_batch`, which writes them in one transaction and answers with one Outcome each, in
    order. Callers that arrive while a batch is being written wait for its end; then those whose requests it
    held return, and the rest form the next batch together. A lone caller never waits for anyone: there is no
    timer, only the commit already in progress."""

    def __init__(self, write_batch: Callable[[Sequence[Request]], list[Outcome[Result]]]):
        self._write_batch = write_batch
        self._queue: list[_Pending[Request, Result]] = []
        self._leading = False  # a thread is writing a batch
        # Guards the queue and the flag; waited on by callers until their batch has committed or they may lead.
        self._changed = threading.Condition(threading.Lock())

    def submit(self, request: Request) -> Result:
        """Write `request` (perhaps with others) and return its result once its commit is durable, or raise its
        own error."""
        pending: _Pending[Request, Result] = _Pending(request)
        with self._changed:
            self._queue.append(pending)
            while self._leading and pending.outcome is None:
                self._changed.wait()
            if pending.outcome is None:  # nobody writing: lead, with whoever queued meanwhile
                self._leading = True
                batch, self._queue = self._queue, []
        if pending.outcome is None:
            try:
                self._lead(batch)
            finally:
                with self._changed:
                    self._leading = False
                    # Wakes the batch's callers (their outcomes are set) and those queued behind it, the first
                    # of whom leads the next batch.
                    self._changed.notify_all()
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
