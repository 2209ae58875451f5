"""The failures a command expects (no database, no master key, a busy port...) and the one line that explains each;
free of typer and click, so the server process `vigil serve` execs into can report them too."""
from __future__ import annotations

from events.database import DatabaseError, DatabaseMissing, DatabaseUnreachable, DatabaseUrlInvalid, SchemaMissing
from events.personal_data import MasterKeyError, MasterKeyMissing
from evidence.notes import NoteError

EXIT_CANNOT_RUN = 2
SET_URL = "set VIGIL_DATABASE_URL to the database to use"


class PortBusy(Exception):
    """The address `serve` would listen on is taken (or cannot be bound)."""

    def __init__(self, host: str, port: int, reason: str):
        super().__init__(host, port, reason)
        self.host, self.port, self.reason = host, port, reason


EXPECTED = (DatabaseError, MasterKeyError, PortBusy, NoteError)  # NoteError: a bad witness or checkpoint text


def explain(exc: Exception) -> str:
    """The one line that says what went wrong and what to do (never a password or a key)."""
    if isinstance(exc, DatabaseMissing):
        where = f" (no file {exc.detail})" if exc.detail else ""
        return f"no database at {exc.url}{where}: run `vigil db upgrade` to create it, or {SET_URL}"
    if isinstance(exc, SchemaMissing) and not exc.known:
        return (f"the database at {exc.url} is at schema revision {exc.detail}, which this version of Vigil does "
                f"not know (migrated by a newer one?): upgrade Vigil, or {SET_URL}")
    if isinstance(exc, SchemaMissing):
        state = f"is at schema revision {exc.detail}, not the latest" if exc.detail else "has no Vigil schema"
        return f"the database at {exc.url} {state}: run `vigil db upgrade`, or {SET_URL}"
    if isinstance(exc, DatabaseUnreachable):
        return (f"cannot connect to the database at {exc.url} ({exc.detail}): check that it is running and "
                f"reachable, or {SET_URL}")
    if isinstance(exc, DatabaseUrlInvalid):
        why = f" ({exc.detail})" if exc.detail else ""
        return (f"VIGIL_DATABASE_URL is not a database URL Vigil can use{why}: give sqlite:///path/to/vigil.db "
                f"or postgresql+psycopg://user:password@host/database")
    if isinstance(exc, MasterKeyMissing):
        return (f"{exc}: set VIGIL_MASTER_KEY, or VIGIL_MASTER_KEY_FILE to the file that holds it "
                f"(`vigil demo` creates one)")
    if isinstance(exc, MasterKeyError):
        return f"{exc}: a master key is 32 random bytes in base64, from VIGIL_MASTER_KEY or VIGIL_MASTER_KEY_FILE"
    if isinstance(exc, PortBusy):
        return (f"cannot listen on {exc.host}:{exc.port} ({exc.reason}): stop what uses the port, or choose "
                f"another --port (or --host)")
    return str(exc)
