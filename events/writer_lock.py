"""One writer at a time on a SQLite file: a thread lock within a process and an flock across processes."""
from __future__ import annotations

import logging
import os
import threading
import weakref

try:
    import fcntl
except ImportError:  # not on Windows: writers of several processes then poll (see WriterLock)
    fcntl = None

from sqlalchemy import Engine

logger = logging.getLogger(__name__)

# SQLite lets one writer in at a time and makes the others sleep and poll (1 to 100 ms steps). Writers instead
# queue on a lock (see WriterLock), so the next one starts the moment the previous one has committed.
_WRITE_LOCKS: "weakref.WeakKeyDictionary[object, WriterLock]" = weakref.WeakKeyDictionary()
_GUARD = threading.RLock()


class WriterLock:
    """One writer at a time on a SQLite file: a thread lock within the process, and across processes (several
    `vigil serve --workers`, a `vigil worker`, a CLI command) an flock on a file beside the database.

    Without the flock, writers of two processes still never corrupt anything (SQLite's own lock), but the one
    that loses sleeps in SQLite's busy handler for up to 100 ms at a time."""

    def __init__(self, path: str | None):
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child must not share its parent's lock
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            except OSError:
                logger.warning("cannot open the writer lock file %s; writers of several processes will poll",
                               self._path, exc_info=True)
                self._path = self._fd = None
        return self._fd

    def __enter__(self) -> "WriterLock":
        self._thread_lock.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def __del__(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._pid == os.getpid():
            os.close(fd)


def writer_lock_path(engine: Engine) -> str | None:
    """The lock file of a SQLite database: `<file>-writer.lock`, beside its -wal and -shm files."""
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:":
        return None
    return os.path.abspath(database) + "-writer.lock"


def write_lock(engine: Engine) -> WriterLock:
    with _GUARD:
        lock = _WRITE_LOCKS.get(engine.pool)
        if lock is None:
            lock = _WRITE_LOCKS[engine.pool] = WriterLock(writer_lock_path(engine))
        return lock
