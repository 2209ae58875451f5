"""Pre-written SQL for the append hot path, run on the driver connection inside SQLAlchemy's transaction.

Building SQLAlchemy statements costs more than the database work on each append; these strings are written
once per dialect. Times are bound by `utc.to_db`, as SQLAlchemy's own types store them, so both readers agree.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import Connection, Engine

from .utc import to_db

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def for_dialect(sql: str, postgres: bool) -> str:
    """SQL written with `:name` parameters, in the driver's own parameter style."""
    return _NAMED.sub(r"%(\1)s", sql) if postgres else sql


@lru_cache(maxsize=64)
def positional(sql: str, postgres: bool) -> str:
    """SQL written with `:name` parameters, in the driver's positional style: each row bound as a tuple, in the
    order the names are written (no mapping built and looked up per parameter, per row)."""
    return _NAMED.sub("%s" if postgres else "?", sql)


class Raw:
    """Executes pre-written statements on the DBAPI connection behind a SQLAlchemy Connection."""

    def __init__(self, conn: Connection):
        self.postgres = conn.dialect.name == "postgresql"
        self._driver = conn.connection.driver_connection
        self._last_time: tuple[datetime | None, Any] = (None, None)

    @classmethod
    def on_driver(cls, driver: Any, postgres: bool) -> "Raw":
        raw = cls.__new__(cls)
        raw.postgres, raw._driver, raw._last_time = postgres, driver, (None, None)
        return raw

    def time(self, value: datetime | None) -> Any:
        # An append binds its recorded_at twice (the event, then its projection): converted once.
        last, bound = self._last_time
        if value is last:
            return bound
        bound = None if value is None else to_db(value, self.postgres)
        self._last_time = (value, bound)
        return bound

    def execute(self, sql: str, params: Mapping[str, Any] | None = None):
        cursor = self._driver.cursor()
        cursor.execute(for_dialect(sql, self.postgres), params or {})
        return cursor

    def one(self, sql: str, params: Mapping[str, Any] | None = None):
        cursor = self.execute(sql, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list:
        cursor = self.execute(sql, params)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.execute(sql, params).close()

    def many(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> None:
        cursor = self._driver.cursor()
        try:
            cursor.executemany(for_dialect(sql, self.postgres), list(rows))
        finally:
            cursor.close()

    def many_tuples(self, sql: str, rows: list[tuple]) -> None:
        """As `many`, each row a tuple of the values in the order `sql` names them (see `positional`)."""
        cursor = self._driver.cursor()
        try:
            cursor.executemany(positional(sql, self.postgres), rows)
        finally:
            cursor.close()


_this_thread = threading.local()


class SharedReads:
    """One pooled checkout for every `reading(engine)` in this thread while it is open (taken at the first read):
    a write request's key and its case's teams cost one checkout instead of two. `close()` gives it back (again a
    no-op), as soon as the reads are done: never held while an append waits for its commit."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._pooled: Any = None
        self._raw: Raw | None = None

    def raw(self) -> Raw:
        if self._raw is None:
            self._pooled = self.engine.raw_connection()
            self._raw = Raw.on_driver(self._pooled.driver_connection, self.engine.dialect.name == "postgresql")
        return self._raw

    def close(self) -> None:
        if getattr(_this_thread, "shared", None) is self:
            _this_thread.shared = None
        pooled, self._pooled, self._raw = self._pooled, None, None
        if pooled is not None:
            pooled.close()


@contextmanager
def shared_reads(engine: Engine) -> Iterator[SharedReads]:
    shared = SharedReads(engine)
    outer, _this_thread.shared = getattr(_this_thread, "shared", None), shared
    try:
        yield shared
    finally:
        shared.close()
        _this_thread.shared = outer


@contextmanager
def reading(engine: Engine) -> Iterator[Raw]:
    """Raw on a pooled connection without SQLAlchemy's Connection around it, for the one-row reads every request
    makes (its key, its case's teams): the wrapper and its events cost more than the query. Checked out and back in
    (reset, so a read's implicit transaction on PostgreSQL ends) as `engine.connect()` does; inside `shared_reads`,
    on its one checkout."""
    shared = getattr(_this_thread, "shared", None)
    if shared is not None and shared.engine is engine:
        yield shared.raw()
        return
    pooled = engine.raw_connection()
    try:
        yield Raw.on_driver(pooled.driver_connection, engine.dialect.name == "postgresql")
    finally:
        pooled.close()
