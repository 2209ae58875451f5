"""Write transactions: `writing` for any writer, `appending` on the one connection a process keeps for appends."""
from __future__ import annotations

import logging
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, event

from .fastsql import Raw, forget_prepared, send_deferred_first
from .writer_lock import write_lock

logger = logging.getLogger(__name__)

WRITE = {"vigil_write": True}  # execution option: this transaction writes (SQLite takes the write lock at BEGIN)
RECYCLE_SECONDS = 1800  # as the pool's pool_recycle: a connection kept open this long is replaced
# The kept-open append connection of each engine's pool: it lives as long as the pool's other connections do.
_APPEND_CONNECTIONS: "weakref.WeakKeyDictionary[object, _AppendConnection]" = weakref.WeakKeyDictionary()
_GUARD = threading.RLock()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE behind the process-wide write lock on SQLite; plain on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with write_lock(engine), engine.execution_options(**WRITE).begin() as conn:
        yield conn


class _AppendConnection:
    """The connection one process appends on, kept open between appends (one per engine pool)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.lock = write_lock(engine) if engine.dialect.name == "sqlite" else threading.Lock()
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
            conn = self.engine.connect()
            if self.engine.dialect.name == "postgresql":
                # `appending_raw` sends BEGIN itself, with the append's first statement in the same round trip
                # (psycopg's implicit BEGIN would be a round trip of its own). Kept off the pool: `discard`
                # invalidates it, so no other user ever gets a connection in this mode.
                driver = conn.connection.driver_connection
                driver.autocommit = True
                # Its statements are prepared by `Raw` (SQL PREPARE, for statements sent as text): psycopg's own
                # preparing would DEALLOCATE ALL after any ROLLBACK (TO SAVEPOINT, too), and those with them.
                driver.prepare_threshold = None
            self.conn, self.opened_at = conn, time.monotonic()
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


def append_backend_pid(engine: Engine) -> int | None:
    """The PostgreSQL backend of the kept-open append connection, if one is open (for tests that kill it)."""
    holder = _APPEND_CONNECTIONS.get(engine.pool)
    if holder is None or holder.conn is None:
        return None
    return holder.conn.connection.driver_connection.info.backend_pid


class AppendConnectionLost(Exception):
    """The append connection broke before its commit was sent, so nothing was written: safe to try again."""


@contextmanager
def appending(engine: Engine) -> Iterator[Connection]:
    """The append transaction (see `appending_raw`), for writers that bring their own statements."""
    with appending_raw(engine) as (conn, _raw):
        yield conn


@contextmanager
def appending_raw(engine: Engine, deferring: bool = False, first: str | None = None,
                  keeping: bool = False) -> Iterator[tuple[Connection, Raw]]:
    """The append transaction: like `writing`, on a connection kept open for appends, begun and committed on
    the driver itself; with the Raw that runs its fast statements (`deferring`: see `Raw.later`), whose kept
    statements go with the COMMIT. `first`, a statement without parameters (PostgreSQL: the append lock), runs
    right after BEGIN, in the same round trip. `keeping`: see `Raw.begin`.

    Appends are serialised anyway (SQLite's single writer; the advisory lock on PostgreSQL), so one connection
    per process loses nothing, and skipping the pool checkout and SQLAlchemy's transaction bookkeeping halves
    the cost of an append that is otherwise a few small statements. A hook may still use the connection
    through SQLAlchemy: it then joins the transaction already begun (see `_on_begin`), after the statements
    kept for later (see `send_deferred_first`)."""
    with _GUARD:
        holder = _APPEND_CONNECTIONS.get(engine.pool)
        if holder is None:
            holder = _APPEND_CONNECTIONS[engine.pool] = _AppendConnection(engine)
            if engine.dialect.name == "postgresql" and not event.contains(
                    engine, "before_cursor_execute", send_deferred_first):
                event.listen(engine, "before_cursor_execute", send_deferred_first)
    with holder.lock:
        conn = holder.connection()
        driver = conn.connection.driver_connection
        raw = Raw(conn, deferring)
        committing = False
        try:
            if engine.dialect.name == "sqlite":
                driver.execute("BEGIN IMMEDIATE")
                if first is not None:
                    raw.run(first)
            else:
                raw.begin(first, keeping)
            yield conn, raw
            committing = True
            raw.commit()
            if conn.in_transaction():  # a hook joined through SQLAlchemy: end its transaction too (the driver's is)
                conn.commit()
        except BaseException as failure:
            raw.discard_deferred()
            if engine.dialect.name == "postgresql":
                forget_prepared(driver)
            try:
                conn.rollback() if conn.in_transaction() else driver.rollback()
            except Exception:
                logger.warning("rolling back an append failed; its connection is dropped", exc_info=True)
                holder.discard()
                # Lost before COMMIT was sent: nothing was written. Lost during it: the outcome is unknown.
                if not committing and isinstance(failure, engine.dialect.dbapi.Error):
                    raise AppendConnectionLost(str(failure)) from failure
            raise
