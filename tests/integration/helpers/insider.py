"""What an insider with the database does first: lift the append-only guards on the events and the Merkle log."""
from __future__ import annotations

from sqlalchemy import text


def drop_guards(conn, postgres: bool) -> None:
    if postgres:
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE log_nodes DISABLE TRIGGER USER"))
    else:
        for trigger in ("events_no_update", "events_no_delete", "log_nodes_no_update", "log_nodes_no_delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
