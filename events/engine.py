"""Engine creation for SQLite and PostgreSQL and the connection settings the store relies on."""
from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event

from .transactions import RECYCLE_SECONDS, AppendConnectionLost, appending, writing  # noqa: F401 - re-exported
from .writer_lock import writer_lock_path  # noqa: F401 - re-exported


def create_private_file(path: str) -> None:
    """Create `path` empty with mode 0600 unless it exists: SQLite would make a new database 0644 (less the
    umask), and it gives its -wal and -shm files the mode of the database file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # it exists (kept as it is); or no such directory: SQLite's own connect then says so
        pass


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
