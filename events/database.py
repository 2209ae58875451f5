"""Opening the database for a command: one that must already exist at the latest schema, or one to migrate."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from .engine import make_engine
from .migrations import HEAD, alembic_config, upgrade

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


class DatabaseError(Exception):
    """A database a command cannot use; `url` is always the masked form, safe to print."""

    def __init__(self, url: str, detail: str = ""):
        super().__init__(url, detail)
        self.url = url
        self.detail = detail


class DatabaseUrlInvalid(DatabaseError):
    """VIGIL_DATABASE_URL is not a URL SQLAlchemy can use (the raw string is never kept: it may hold a password)."""


class DatabaseMissing(DatabaseError):
    """The SQLite file named by the URL does not exist (`detail` is its absolute path)."""


class DatabaseUnreachable(DatabaseError):
    """The database server refused or could not be reached, or the SQLite file cannot be opened."""


class SchemaMissing(DatabaseError):
    """The database exists but has no Vigil schema, or not the latest one (`detail` is its revision, if any)."""

    def __init__(self, url: str, detail: str = "", known: bool = True):
        super().__init__(url, detail)
        self.known = known  # False: a revision this code does not know (a newer Vigil migrated it)


def masked(url: URL) -> str:
    """The URL with its password (in the user part or the query string) replaced by ***."""
    query = {k: "***" if "password" in k.lower() else v for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True).replace("=%2A%2A%2A", "=***")


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseUrlInvalid("(not shown: it does not parse)") from None


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0].strip() if lines else type(exc.orig).__name__


def _check_schema(engine: Engine, shown: str) -> None:
    if _at_head(engine):
        return
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    if current == set(script.get_heads()):
        return
    known = all(_known(script, revision) for revision in current)
    raise SchemaMissing(shown, ", ".join(sorted(current)), known=known)


def _at_head(engine: Engine) -> bool:
    """The quick answer for a database at the latest migration; anything else (no version table, another
    revision, several) is for Alembic to tell apart."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return [r[0] for r in rows] == [HEAD]


def _known(script: ScriptDirectory, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:  # alembic's answer to an unknown or ambiguous id
        return False


def open_existing(database_url: str) -> Engine:
    """The engine of a database that exists and is at the latest migration; creates no file on the way.

    A SQLite file is checked before any engine touches it (SQLite creates a missing file on connect), through a
    plain read-write connection that cannot create it and sets no journal mode."""
    url = _parse(database_url)
    shown = masked(url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or not path.is_file():
            raise DatabaseMissing(shown, str(path.resolve()) if url.database else "")
        uri = f"file:{quote(str(path.resolve()))}?mode=rw"
        probe = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)
        try:
            _check_schema(probe, shown)
        except DBAPIError as exc:
            raise DatabaseUnreachable(shown, _first_line(exc)) from exc
        finally:
            probe.dispose()
        return make_engine(database_url)
    try:
        engine = make_engine(database_url)
    except (ArgumentError, ValueError) as exc:  # ValueError: an in-memory SQLite database
        raise DatabaseUrlInvalid(shown, str(exc) if isinstance(exc, ValueError) else "") from None
    try:
        _check_schema(engine, shown)
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnreachable(shown, _first_line(exc)) from exc
    except BaseException:
        engine.dispose()
        raise
    return engine


def migrate(database_url: str) -> Engine:
    """The engine of the database after bringing it to the latest migration (a SQLite file is created)."""
    url = _parse(database_url)
    shown = masked(url)
    try:
        engine = make_engine(database_url)
    except (ArgumentError, ValueError) as exc:  # ValueError: an in-memory SQLite database
        raise DatabaseUrlInvalid(shown, str(exc) if isinstance(exc, ValueError) else "") from None
    try:
        engine.connect().close()  # a connection failure is told apart from a failing migration
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnreachable(shown, _first_line(exc)) from exc
    upgrade(engine)
    return engine


def database_reachable(engine: Engine) -> bool:
    """True when a connection can be had and runs a statement."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
