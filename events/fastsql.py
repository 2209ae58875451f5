"""Pre-written SQL for the append hot path, run on the driver connection inside SQLAlchemy's transaction.

Building SQLAlchemy statements costs more than the database work on each append; these strings are written
once per dialect. Times are bound by `utc.to_db`, as SQLAlchemy's own types store them, so both readers agree.
"""
from __future__ import annotations

import itertools
import re
import sqlite3
import threading
import weakref
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, TypeVar

from sqlalchemy import Connection, Engine

from .utc import to_db

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
Answer = TypeVar("Answer")
# The Raw on each driver connection (by id) whose `later` statements are not yet sent: SQLAlchemy statements on
# that connection send them first (see `send_deferred_first`), so nothing runs out of order.
_WAITING: dict[int, "Raw"] = {}
# PostgreSQL: the statements each append connection has prepared by name (SQL PREPARE), so one bound as text in
# a simple query (see `Raw.begin`) still runs the server's parsed statement: sql -> (name, its parameters in
# order), or None where it could not be prepared (it then goes as a statement of its own, values inlined).
_PREPARED: "weakref.WeakKeyDictionary[Any, dict[str, tuple[str, tuple[str, ...]] | None]]" = (
    weakref.WeakKeyDictionary())
# PostgreSQL: psycopg's Transformer of each append connection, kept: it binds an EXECUTE's values as
# ClientCursor.mogrify does, without a new Transformer (and its dumper look-ups) per statement.
_LITERALS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_NAMES = itertools.count()  # never reused in a process: a name forgotten here may still be prepared there


def forget_prepared(driver: Any) -> None:
    """The driver rolled back: psycopg then deallocates every prepared statement of the session (DEALLOCATE ALL,
    if it had any of its own), so this connection's are prepared again when next needed."""
    _PREPARED.pop(driver, None)


class DeferredWriteFailed(Exception):
    """A statement sent ahead without waiting for its answer (`Raw.later`) failed, or one sent with it did. The
    server answered, so the connection is sound, and the transaction is aborted with nothing of it committed: it
    can be rolled back and written again statement by statement, to learn whose statement it was."""


@lru_cache(maxsize=256)
def for_dialect(sql: str, postgres: bool) -> str:
    """SQL written with `:name` parameters, in the driver's own parameter style."""
    return _NAMED.sub(r"%(\1)s", sql) if postgres else sql


@lru_cache(maxsize=256)
def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """SQL written with `:name` parameters as PostgreSQL's PREPARE takes it ($1, $2, ...: a name used twice is one
    parameter), and the names in that order."""
    names: dict[str, int] = {}

    def number(match: re.Match) -> str:
        return f"${names.setdefault(match.group(1), len(names) + 1)}"
    return _NAMED.sub(number, sql), tuple(names)


@lru_cache(maxsize=64)
def positional(sql: str, postgres: bool) -> str:
    """SQL written with `:name` parameters, in the driver's positional style: each row bound as a tuple, in the
    order the names are written (no mapping built and looked up per parameter, per row)."""
    return _NAMED.sub("%s" if postgres else "?", sql)


class Raw:
    """Executes pre-written statements on the DBAPI connection behind a SQLAlchemy Connection.

    With `deferring` (PostgreSQL only), `later` keeps statements whose answer nobody waits for and sends them in
    pipeline mode together with the next statement that needs an answer, or with the COMMIT: one round trip for
    all. A failure among them surfaces there as DeferredWriteFailed, and every later statement fails the same way,
    so the transaction cannot commit.

    Without `deferring`, in a transaction `begin` opened on PostgreSQL, `later` keeps its statements as text with
    their values bound by psycopg (ClientCursor) and sends them, in one simple query, before the next statement
    or together with the COMMIT: a lone append's projection write costs no round trip of its own, and no
    pipeline (whose client CPU costs a lone append more than the round trips it saves)."""

    _deferring = False
    _pending: list[tuple[str, Mapping[str, Any] | None]] | tuple = ()  # a list of its own once deferring
    _failed: BaseException | None = None
    _keeping = False  # PostgreSQL, not deferring: `later` statements kept as bound text in `_kept`
    _kept: list[str] | tuple = ()
    _binder: Any = None
    _shared = False  # keeping for appends that share the transaction: a failure is nobody's in particular

    def __init__(self, conn: Connection, deferring: bool = False):
        self.postgres = conn.dialect.name == "postgresql"
        self._driver = conn.connection.driver_connection
        self._last_time: tuple[datetime | None, Any] = (None, None)
        if deferring and self.postgres:
            self._deferring, self._pending = True, []

    def begin(self, first: str | None = None, keeping: bool = False) -> None:
        """PostgreSQL, on a driver in autocommit mode: BEGIN, and `first` (no parameters) right after it (kept for
        the next pipeline when deferring, where each statement goes alone).

        `keeping`: without deferring, BEGIN and `first` are kept, and so are the statements `later` is given, as
        text with their values bound by psycopg; they all go in one simple query with the next statement that is
        answered (itself bound as text: the EXECUTE of a statement prepared once per connection), or with the
        COMMIT. A lone append: BEGIN, its lock and its insert in one round trip, its projection's write and the
        COMMIT in another. Only for a transaction whose every failure is all of its own (one append): a kept
        statement's failure surfaces with the next statement, whoever sent it."""
        if self._deferring:
            self.later("BEGIN")
            if first is not None:
                self.later(first)
            return
        if not keeping:
            self.run("BEGIN" if first is None else f"BEGIN; {first}")
            return
        self._keeping, self._kept = True, ["BEGIN"] if first is None else ["BEGIN", first]
        _WAITING[id(self._driver)] = self

    def defer(self) -> None:
        """From now on, keep `later` statements (PostgreSQL only): a transaction begun answering each statement
        (a lone append, cheapest so) that others then joined sends theirs in pipelines, beginning with those
        kept so far (a failure among them is then told apart as any in a pipeline is)."""
        if self.postgres and not self._deferring:
            kept = self._kept
            self._keeping, self._kept = False, ()
            self._deferring, self._pending = True, [(text, None) for text in kept]
            if kept:
                _WAITING[id(self._driver)] = self

    def share(self) -> None:
        """Others join a transaction begun `keeping` (PostgreSQL only): their statements are kept and sent as
        before, but a failure among them, surfacing with the next answered statement, can no longer be told to
        be that statement's: it raises DeferredWriteFailed (the transaction is aborted, nothing of it commits),
        as a failure in a pipeline does, and every later statement fails the same way."""
        if self._keeping:
            self._shared = True

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
        if self._pending or self._failed is not None:
            return self._with_deferred(lambda: self._execute(sql, params))
        if self._keeping:  # with what is kept, if anything: one simple query either way
            return self._send_kept(sql, params)
        return self._execute(sql, params)

    def _bind(self, sql: str, params: Mapping[str, Any] | None) -> str:
        """The statement as text with its values bound and quoted by psycopg, as its ClientCursor sends it."""
        if self._binder is None:
            from psycopg import ClientCursor  # PostgreSQL only: SQLite never keeps
            self._binder = ClientCursor(self._driver)
        return self._binder.mogrify(for_dialect(sql, True), params or {})

    def _prepared_text(self, sql: str, params: Mapping[str, Any] | None) -> str:
        """`sql` as text to send with kept statements: the EXECUTE of its prepared form, its values bound by
        psycopg (prepared first if need be: a round trip, once per connection and statement); the statement with
        its values inlined where it cannot be prepared."""
        known = _PREPARED.get(self._driver)
        if known is None:
            known = _PREPARED[self._driver] = {}
        entry = known.get(sql, False)
        if entry is False:
            if not params:  # a statement without values (SAVEPOINT, ROLLBACK TO ...): sent as written
                return for_dialect(sql, True)
            entry = self._prepare(sql)
            if entry is False:
                return self._bind(sql, params)
            known[sql] = entry
        if entry is None:
            return self._bind(sql, params)
        name, names = entry
        if not names:
            return f"EXECUTE {name}"
        tx = _LITERALS.get(self._driver)
        if tx is None:
            from psycopg.adapt import Transformer  # PostgreSQL only: SQLite never keeps
            tx = _LITERALS[self._driver] = Transformer(self._driver)
        # Each value quoted by psycopg's dumpers, exactly as ClientCursor.mogrify quotes it.
        literal, values = tx.as_literal, params or {}
        args = b",".join([b"NULL" if values[n] is None else literal(values[n]) for n in names])
        return f"EXECUTE {name}({args.decode(tx.encoding)})"

    def _prepare(self, sql: str) -> tuple[str, tuple[str, ...]] | None | Literal[False]:
        """PREPARE `sql` on the session, and what to EXECUTE it by; None if it cannot be prepared (a type PREPARE
        cannot infer: it goes inlined from now on); False if not now (the transaction has failed already). In an
        open transaction it goes in a savepoint of its own, so that its failure fails nothing else (PREPARE itself
        is not undone by a rollback)."""
        from psycopg.pq import TransactionStatus  # PostgreSQL only
        status = self._driver.info.transaction_status
        if status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
            return False
        text, names = numbered(sql)
        name = f"vigil_{next(_NAMES)}"
        inside = status == TransactionStatus.INTRANS
        cursor = self._driver.cursor()
        try:
            if inside:  # alone: a statement that does not parse fails the whole simple query it is in
                cursor.execute("SAVEPOINT vigil_prepare")
            cursor.execute(f"PREPARE {name} AS {text}; RELEASE SAVEPOINT vigil_prepare" if inside
                           else f"PREPARE {name} AS {text}")
            return name, names
        except self._driver.Error:
            if self._driver.broken or self._driver.closed:
                raise
            if inside:
                cursor.execute("ROLLBACK TO SAVEPOINT vigil_prepare; RELEASE SAVEPOINT vigil_prepare")
            return None
        finally:
            cursor.close()

    def _send_kept(self, sql: str | None = None, params: Mapping[str, Any] | None = None,
                   then: str | None = None):
        """The kept statements, then `sql` bound as text (its answer: the cursor returned, on its result) or
        `then` (no parameters), in one simple query: one round trip."""
        kept = self._kept
        if sql is not None:
            then = self._prepared_text(sql, params)
        self.discard_deferred()
        self._keeping = True
        cursor = self._driver.cursor()
        try:
            cursor.execute(";".join(kept if then is None else [*kept, then]))  # no parameters: simple query
            while cursor.nextset():  # to the last statement's result
                pass
        except BaseException as exc:
            cursor.close()
            if getattr(exc, "sqlstate", None) == "26000":  # a prepared statement gone (DEALLOCATE): prepared again
                _PREPARED.pop(self._driver, None)
            if (self._shared and isinstance(exc, self._driver.Error) and not self._driver.broken
                    and not self._driver.closed and self._aborted()):
                self._failed = exc
                raise DeferredWriteFailed(str(exc)) from exc
            raise
        if sql is not None:
            return cursor
        cursor.close()
        return None

    def _execute(self, sql: str, params: Mapping[str, Any] | None):
        cursor = self._driver.cursor()
        cursor.execute(for_dialect(sql, self.postgres), params or {})
        return cursor

    def later(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement whose answer nobody needs: when deferring, it goes with the next one that is answered."""
        if not self._deferring:
            if not self._keeping:
                self.run(sql, params)
                return
            self._kept.append(sql if params is None else self._prepared_text(sql, params))  # none: as written
            _WAITING[id(self._driver)] = self
            return
        self._pending.append((for_dialect(sql, True), params or {}))
        _WAITING[id(self._driver)] = self

    def send_deferred(self) -> None:
        """Send the statements kept by `later` now (a round trip), before something else reads or writes."""
        if self._pending or self._failed is not None:
            self._with_deferred(lambda: None)
        elif self._kept:
            self._send_kept()

    def commit(self) -> None:
        """COMMIT, with any statements `later` kept in the same round trip."""
        if self._kept:
            self._send_kept(then="COMMIT")
            return
        if not self._pending and self._failed is None:
            self._driver.commit()
            return
        self._with_deferred(lambda: self._driver.cursor().execute("COMMIT"))

    def discard_deferred(self) -> None:
        """The transaction rolls back: what `later` kept is never sent."""
        self._pending = []
        if self._keeping:
            self._kept = []
        if _WAITING.get(id(self._driver)) is self:
            del _WAITING[id(self._driver)]

    def _with_deferred(self, then: Callable[[], Answer]) -> Answer:
        """The kept statements, then `then`'s, in one pipeline: sent together, answered in one round trip."""
        if self._failed is not None:
            raise DeferredWriteFailed("an earlier statement of this transaction failed") from self._failed
        pending = self._pending
        self.discard_deferred()
        try:
            with self._driver.pipeline():
                cursor = self._driver.cursor()
                for sql, params in pending:
                    cursor.execute(sql, params)
                answer = then()
        except self._driver.Error as exc:  # psycopg's base error, on the connection class
            if self._driver.broken or self._driver.closed or not self._aborted():
                # No answer from the server, or not one that says the transaction failed (a COMMIT that went
                # through, then the connection died): the caller handles it as a lost connection or an unknown
                # outcome, never by writing the batch again.
                raise
            self._failed = exc
            raise DeferredWriteFailed(str(exc)) from exc
        return answer

    def _aborted(self) -> bool:
        """The server has this transaction open and failed: nothing of it can commit."""
        from psycopg.pq import TransactionStatus  # only on PostgreSQL's failure path: SQLite never needs psycopg
        return self._driver.info.transaction_status == TransactionStatus.INERROR

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
        self.send_deferred()
        self._executemany(for_dialect(sql, self.postgres), list(rows))

    def insert_rows(self, sql: str, rows: list[tuple]) -> None:
        """As `many_tuples` for a one-row `INSERT ... VALUES (...)` (no RETURNING, nothing after VALUES): on SQLite
        as few multi-row statements as its limit on bound parameters allows, in the same row order."""
        if self.postgres or len(rows) < 2:
            self.many_tuples(sql, rows)
            return
        self.send_deferred()
        per = _rows_per_statement(self._driver, len(rows[0]))
        cursor = self._driver.cursor()
        try:
            for start in range(0, len(rows), per):
                chunk = rows[start:start + per]
                cursor.execute(multi_row_sql(sql, len(chunk)), [value for row in chunk for value in row])
        finally:
            cursor.close()

    def many_tuples(self, sql: str, rows: list[tuple]) -> None:
        """As `many`, each row a tuple of the values in the order `sql` names them (see `positional`)."""
        self.send_deferred()
        self._executemany(positional(sql, self.postgres), rows)

    def _executemany(self, sql: str, rows: list) -> None:
        cursor = self._driver.cursor()
        try:
            if self.postgres and self._driver.prepare_threshold is None:
                # The append connection, whose statements `Raw` prepares: rows are still best sent to a statement
                # psycopg prepares once (12 µs less backend CPU per row). psycopg keeps it, but never clears its
                # statements (DEALLOCATE ALL) while the threshold is None, save on a rollback, after which
                # `forget_prepared` forgets ours too.
                self._driver.prepare_threshold = 5
                try:
                    cursor.executemany(sql, rows)
                finally:
                    self._driver.prepare_threshold = None
            else:
                cursor.executemany(sql, rows)
        finally:
            cursor.close()


# SQLite statements that insert many rows at once: the rows of one statement bound as one flat list. Fewer and
# larger statements cost less per row than executemany (which steps, resets and binds each row from Python), and
# the driver lets go of the GIL once per statement instead of once per row, which matters when another thread
# runs Python meanwhile (a bulk import reads the next batch while this one is written).
_ROWS_CAP = 2000


@lru_cache(maxsize=128)
def multi_row_sql(sql: str, count: int) -> str:
    """SQLite: a one-row `INSERT ... VALUES (...)` written with `:name` parameters, as `count` rows by position."""
    head, _, group = positional(sql, False).rpartition(" VALUES ")
    return f"{head} VALUES {', '.join([group] * count)}"


def _rows_per_statement(driver: Any, width: int) -> int:
    try:
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # a driver without getlimit: SQLite's smallest default
        limit = 999
    return max(1, min(_ROWS_CAP, limit // width))


def send_deferred_first(conn: Connection, *_args: Any) -> None:
    """SQLAlchemy's before_cursor_execute: a hook's statement on an append connection runs after the ones the
    append already kept for later, as it would have without deferring."""
    raw = _WAITING.get(id(conn.connection.driver_connection))
    if raw is not None:
        raw.send_deferred()


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
