"""One job at a time on a worker thread while the caller prepares the next: results handed back in submit order."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class WriteAhead(Generic[T]):
    """At most one job in flight. `submit` first waits for the job before it and hands its result to `on_done`
    (or raises its exception), so results arrive in order and memory holds two batches at most.

    Worth it where the job spends its time outside the GIL (a database's own work, the commit's fsync)."""

    def __init__(self, on_done: Callable[[T], None], name: str = "write-ahead"):
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._running: Future[T] | None = None

    def submit(self, job: Callable[..., T], *args) -> None:
        self.wait()
        self._running = self._pool.submit(job, *args)

    @property
    def busy(self) -> bool:
        """A job was submitted and its result not yet handed on."""
        return self._running is not None

    def wait(self) -> None:
        """Until the job in flight is done; its result goes to `on_done`, its exception is raised here."""
        running, self._running = self._running, None
        if running is not None:
            self._on_done(running.result())

    def close(self) -> None:
        """Waits for the job in flight (its exception, if any, is not raised: the caller is already failing or
        has waited) and stops the thread."""
        running, self._running = self._running, None
        if running is not None:
            running.exception()
        self._pool.shutdown(wait=True)
