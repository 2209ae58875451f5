"""The case service's reads of the database: case projections, a case's teams, wrapped data keys, clean-up."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from typing import Iterable, Iterator

from sqlalchemy import Connection, Engine, delete, insert, select, text

from events.case_list import ListFilter, Listed, list_page
from events.case_projections import CaseProjections, CaseRow
from events.fastsql import reading
from events.name_index import NameIndex
from events.store import APPEND_LOCK_KEY
from events.tables import case_keys, case_projections
from events.timing import Timing
from events.transactions import writing


class CaseRepository:
    """Each read opens and closes its own connection; the writes that must share an append's transaction take
    that transaction's connection (`store_key`, `delete_key`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, case_id: str) -> CaseRow | None:
        with self.engine.connect() as conn:
            return CaseProjections.get(conn, case_id)


    def zones(self, case_ids) -> dict[str, str | None]:
        """Each case's time zone, for the worker's messages."""
        with reading(self.engine) as raw:
            return CaseProjections.zones(raw, case_ids)

    def teams(self, case_id: str) -> list[str] | None:
        """The case's teams, or None for no such case: the append path's access check, so one column, read on the
        driver (events/fastsql.reading)."""
        with reading(self.engine) as raw:
            row = raw.one("SELECT teams FROM case_projections WHERE case_id = :c", {"c": case_id})
        return None if row is None else json.loads(row[0])

    def visible_ids(self, team: str) -> list[str]:
        with self.engine.connect() as conn:
            return CaseProjections.visible_ids(conn, team)

    def page(self, wanted: ListFilter, now: datetime, timing: Timing, offset: int, limit: int
             ) -> tuple[list[Listed], bool]:
        with self.engine.connect() as conn:
            return list_page(conn, wanted, now, timing, offset, limit)

    def rows(self, case_ids: Iterable[str]) -> list[CaseRow]:
        wanted = sorted(set(case_ids))
        if not wanted:
            return []
        with self.engine.connect() as conn:
            return list(CaseProjections.some(conn, wanted))

    def case_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(case_projections.c.case_id).order_by(case_projections.c.case_id))
                        .scalars())

    def names_found(self, names: NameIndex, query: str) -> set[str] | None:
        """The cases whose names match `query` in the blind index, or None while the index is incomplete."""
        with self.engine.connect() as conn:
            return names.find(conn, query) if NameIndex.complete(conn) else None

    @staticmethod
    def row_in(conn: Connection, case_id: str) -> CaseRow | None:
        return CaseProjections.get(conn, case_id)

    @staticmethod
    def key_in(conn: Connection, case_id: str) -> bytes | None:
        return conn.execute(select(case_keys.c.wrapped_key).where(case_keys.c.case_id == case_id)).scalar()

    @contextmanager
    def locked(self) -> Iterator[Connection]:
        """A write transaction holding the lock appends take, so no append changes a case meanwhile."""
        with writing(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})
            yield conn

    def all(self, status: str | None, country: str | None) -> list[CaseRow]:
        with self.engine.connect() as conn:
            return list(CaseProjections.all(conn, status, country))

    def wrapped_key(self, case_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            return conn.execute(select(case_keys.c.wrapped_key).where(case_keys.c.case_id == case_id)).scalar()

    def wrapped_keys(self, case_ids: Iterable[str]) -> dict[str, bytes]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(case_keys.c.case_id, case_keys.c.wrapped_key)
                                     .where(case_keys.c.case_id.in_(list(case_ids)))).all())

    @staticmethod
    def store_key(conn: Connection, case_id: str, wrapped: bytes, now: datetime) -> None:
        conn.execute(insert(case_keys).values(case_id=case_id, wrapped_key=wrapped, created_at=now))

    @staticmethod
    def delete_key(conn: Connection, case_id: str) -> None:
        conn.execute(delete(case_keys).where(case_keys.c.case_id == case_id))

    def purge_deleted_rows(self) -> None:
        """Push deleted bytes out of the files: SQLite's WAL is folded in and truncated, PostgreSQL vacuums."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM case_keys")
                conn.exec_driver_sql("VACUUM name_index")
