"""Group commit: appends that arrive while another commit is running are written together, by one leader."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

MAX_BATCH = 64  # appends in one transaction at most: bounds the wait of the batch's first caller


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

    A caller queues its request. If no batch is being written, it leads: it calls `write_batch` with a `take`
    function that hands out queued requests one at a time (None when the queue is empty), so requests that
    arrive while the batch is being written join it until the leader finds the queue empty and commits.
    `write_batch` answers with one Outcome per request it took, in order. A lone caller never waits for
    anyone: there is no timer, only the transaction already in progress."""

    def __init__(self, write_batch: Callable[[Callable[[], Request | None]], list[Outcome[Result]]]):
        self._write_batch = write_batch
        self._queue: deque[_Pending[Request, Result]] = deque()
        self._taken: list[_Pending[Request, Result]] = []  # the batch being written
        self._leading = False
        # Guards the queue, the batch and the flag, taken directly (C) on the hot path; `_changed`, on the same
        # lock, is waited on by callers until their batch has committed or they may lead.
        self._mutex = threading.Lock()
        self._changed = threading.Condition(self._mutex)

    def submit(self, request: Request) -> Result:
        """Write `request` (perhaps with others) and return its result once its commit is durable, or raise its
        own error."""
        pending: _Pending[Request, Result] = _Pending(request)
        with self._mutex:
            self._queue.append(pending)
            # Nobody writing: lead at once, without a second trip through the lock (the lone append's path).
            leads = not self._leading
            if leads:
                self._leading = True
                self._taken = taken = []
        while True:
            if not leads:
                with self._mutex:
                    while self._leading and pending.outcome is None:
                        self._changed.wait()
                    if pending.outcome is not None:
                        break
                    self._leading = True
                    self._taken = taken = []
            try:
                self._lead(taken)
            finally:
                with self._mutex:
                    self._leading = False
                    # Wakes the batch's callers (their outcomes are set) and those queued meanwhile, the first
                    # of whom leads the next batch.
                    self._changed.notify_all()
            if pending.outcome is not None:
                break
            leads = False
        outcome = pending.outcome
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

    def waiting(self) -> bool:
        """Whether requests are queued behind the batch being written (a hint, read without the lock: one arriving
        just after it is read joins the batch all the same)."""
        return bool(self._queue)

    def _take(self) -> Request | None:
        with self._mutex:
            if not self._queue or len(self._taken) >= MAX_BATCH:
                return None
            pending = self._queue.popleft()
            self._taken.append(pending)
            return pending.request

    def _lead(self, taken: list[_Pending[Request, Result]]) -> None:
        try:
            outcomes = self._write_batch(self._take)
        except BaseException as failure:
            # The batch's transaction failed as a whole (its connection lost, its commit refused, its only
            # append failed): nobody in it was written, or nobody can be told they were. Each caller gets it.
            for pending in taken:
                pending.outcome = Outcome(error=failure)
            return
        for pending, outcome in zip(taken, outcomes, strict=True):
            pending.outcome = outcome
