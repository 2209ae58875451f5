"""Engine creation for SQLite and PostgreSQL, with the connection settings the store relies on."""
from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

WRITE = {"vigil_write": True}  # execution option: this transaction writes (SQLite takes the write lock at BEGIN)

# SQLite lets one writer in at a time and makes the others sleep and poll (1 to 100 ms steps). Within a process,
# writers instead queue on this lock, so the next one starts the moment the previous one has committed.
_WRITE_LOCKS: "weakref.WeakKeyDictionary[object, threading.Lock]" = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE behind the process-wide write lock on SQLite; plain on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _GUARD:
        lock = _WRITE_LOCKS.setdefault(engine.pool, threading.Lock())
    with lock, engine.execution_options(**WRITE).begin() as conn:
        yield conn


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per checkout): a dead connection fails its transaction, which callers retry.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs) -> Engine:
    if ":memory:" in url or url.rstrip("/") == "sqlite:":
        raise ValueError("Vigil needs a SQLite file, not an in-memory database")
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    engine = create_engine(url, **kwargs)

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
        # Writers take the database lock up front so two appends never deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("vigil_write") else "BEGIN")

    return engine


__all__ = ["make_engine", "writing", "WRITE", "NullPool"]
