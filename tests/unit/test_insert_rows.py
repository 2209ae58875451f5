"""Raw.insert_rows: many rows per SQLite statement, split at the parameter limit, in order, nothing lost."""
from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine

from events import fastsql
from events.fastsql import Raw

SQL = "INSERT INTO t (a, b, c) VALUES (:a, :b, :c)"


def _table():
    engine = create_engine("sqlite://")
    conn = engine.connect()
    conn.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY, a INTEGER, b TEXT, c BLOB)")
    return conn


def test_rows_go_in_statements_of_at_most_the_cap_in_their_order(monkeypatch):
    monkeypatch.setattr(fastsql, "_ROWS_CAP", 4)
    seen: list[str] = []
    conn = _table()
    conn.connection.driver_connection.set_trace_callback(seen.append)
    rows = [(i, f"r{i}", bytes([i % 256])) for i in range(11)]
    Raw(conn).insert_rows(SQL, rows)
    inserts = [s for s in seen if s.startswith("INSERT")]
    assert len(inserts) == 3  # 4 + 4 + 3
    assert [tuple(r) for r in conn.exec_driver_sql("SELECT a, b, c FROM t ORDER BY n")] == rows


def test_the_limit_on_bound_parameters_bounds_a_statement():
    driver = sqlite3.connect(":memory:")
    driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)
    assert fastsql._rows_per_statement(driver, 3) == 3
    assert fastsql._rows_per_statement(driver, 16) == 1
    driver.close()


def test_one_row_and_no_rows():
    conn = _table()
    Raw(conn).insert_rows(SQL, [])
    Raw(conn).insert_rows(SQL, [(1, "x", b"y")])
    assert [tuple(r) for r in conn.exec_driver_sql("SELECT a, b, c FROM t")] == [(1, "x", b"y")]
