"""Engine creation for SQLite and PostgreSQL, the connection settings the store relies on, and write transactions."""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Iterator

try:
    import fcntl
except ImportError:  # not on Windows: writers of several processes then poll (see WriterLock)
    fcntl = None

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)

WRITE = {"vigil_write": True}  # execution option: this transaction writes (SQLite takes the write lock at BEGIN)

# SQLite lets one writer in at a time and makes the others sleep and poll (1 to 100 ms steps). Writers instead
# queue on a lock (see WriterLock), so the next one starts the moment the previous one has committed.
_WRITE_LOCKS: "weakref.WeakKeyDictionary[object, WriterLock]" = weakref.WeakKeyDictionary()
_GUARD = threading.RLock()
RECYCLE_SECONDS = 1800  # as the pool's pool_recycle: a connection kept open this long is replaced


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


def create_private_file(path: str) -> None:
    """Create `path` empty with mode 0600 unless it exists: SQLite would make a new database 0644 (less the
    umask), and it gives its -wal and -shm files the mode of the database file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # it exists (kept as it is); or no such directory: SQLite's own connect then says so
        pass


def writer_lock_path(engine: Engine) -> str | None:
    """The lock file of a SQLite database: `<file>-writer.lock`, beside its -wal and -shm files."""
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:":
        return None
    return os.path.abspath(database) + "-writer.lock"


def _write_lock(engine: Engine) -> WriterLock:
    with _GUARD:
        lock = _WRITE_LOCKS.get(engine.pool)
        if lock is None:
            lock = _WRITE_LOCKS[engine.pool] = WriterLock(writer_lock_path(engine))
        return lock


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE behind the process-wide write lock on SQLite; plain on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _write_lock(engine), engine.execution_options(**WRITE).begin() as conn:
        yield conn


class _AppendConnection:
    """The connection one process appends on, kept open between appends (one per engine pool)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.lock = _write_lock(engine) if engine.dialect.name == "sqlite" else threading.Lock()
        self.conn: Connection | None = None
        self.opened_at = 0.0
        event.listen(engine, "engine_disposed", self._on_dispose)

    def connection(self) -> Connection:
        if self.conn is not None:
            driver = self.conn.connection.driver_connection
            stale = time.monotonic() - self.opened_at > RECYCLE_SECONDS
            if stale or getattr(driver, "closed", False) or getattr(driver, "broken", False):
                self.discard()
        if self.conn is None:
            self.conn = self.engine.connect()
            self.opened_at = time.monotonic()
        return self.conn

    def discard(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken: invalidating is all that was wanted
                logger.warning("closing a broken append connection failed", exc_info=True)

    def _on_dispose(self, _engine: Engine) -> None:
        with self.lock:
            self.discard()


class AppendConnectionLost(Exception):
    """The append connection broke before its commit was sent, so nothing was written: safe to try again."""


@contextmanager
def appending(engine: Engine) -> Iterator[Connection]:
    """The append transaction: like `writing`, on a connection kept open for appends, begun and committed on
    the driver itself.

    Appends are serialised anyway (SQLite's single writer; the advisory lock on PostgreSQL), so one connection
    per process loses nothing, and skipping the pool checkout and SQLAlchemy's transaction bookkeeping halves
    the cost of an append that is otherwise a few small statements. A hook may still use the connection
    through SQLAlchemy: it then joins the transaction already begun (see `_on_begin`)."""
    pool = engine.pool
    with _GUARD:  # kept on the pool, so it lives as long as the pool's connections do
        holder = getattr(pool, "_vigil_append_connection", None)
        if holder is None:
            holder = pool._vigil_append_connection = _AppendConnection(engine)
    with holder.lock:
        conn = holder.connection()
        driver = conn.connection.driver_connection
        committing = False
        try:
            if engine.dialect.name == "sqlite":
                driver.execute("BEGIN IMMEDIATE")  # psycopg begins by itself at the first statement
            yield conn
            committing = True
            conn.commit() if conn.in_transaction() else driver.commit()
        except BaseException as failure:
            try:
                conn.rollback() if conn.in_transaction() else driver.rollback()
            except Exception:
                logger.warning("rolling back an append failed; its connection is dropped", exc_info=True)
                holder.discard()
                # Lost before COMMIT was sent: nothing was written. Lost during it: the outcome is unknown.
                if not committing and isinstance(failure, engine.dialect.dbapi.Error):
                    raise AppendConnectionLost(str(failure)) from failure
            raise


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per checkout): a dead connection fails its transaction, which callers retry.
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs) -> Engine:
    if ":memory:" in url or url.rstrip("/") == "sqlite:":
        raise ValueError("Vigil needs a SQLite file, not an in-memory database")
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    engine = create_engine(url, **kwargs)

    if not engine.url.query.get("uri"):  # a file: URI is the caller's to make
        @event.listens_for(engine, "do_connect")
        def _create_private(_dialect, _record, _cargs, _cparams):
            create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # an erased data key must not linger in free pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.connection.driver_connection.in_transaction:
            return  # joining an append begun on the driver (see `appending`)
        # Writers take the database lock up front so two appends never deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("vigil_write") else "BEGIN")

    return engine


__all__ = ["make_engine", "writing", "appending", "AppendConnectionLost", "WRITE", "NullPool"]
