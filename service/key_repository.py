"""The api_keys table: what the key service reads and writes, and nothing of what a key means."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from events.fastsql import reading
from events.transactions import writing
from events.tables import api_keys


@dataclass(frozen=True)
class StoredKey:
    id: str
    name: str
    role: str
    team: str
    key_hash: str
    revoked: bool


# Every request authenticates: one pre-written statement on a pooled driver connection (events/fastsql.reading),
# as the append path's reads are. Through SQLAlchemy it cost a BEGIN of its own on SQLite and about a tenth of an
# append's CPU; a Connection around the driver cost more than the query.
BY_HASH = "SELECT id, name, role, team, key_hash, revoked_at FROM api_keys WHERE key_hash = :digest"
# The append's two reads in one statement: the key and the teams of the case it writes to (NULL: no such case).
BY_HASH_WITH_TEAMS = ("SELECT id, name, role, team, key_hash, revoked_at, "
                      "(SELECT teams FROM case_projections WHERE case_id = :case_id) "
                      "FROM api_keys WHERE key_hash = :digest")


class KeyRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def by_hash(self, digest: str) -> StoredKey | None:
        with reading(self.engine) as raw:
            row = raw.one(BY_HASH, {"digest": digest})
        if row is None:
            return None
        key_id, name, role, team, key_hash, revoked_at = row
        return StoredKey(key_id, name, role, team, key_hash, revoked_at is not None)

    def by_hash_with_teams(self, digest: str, case_id: str) -> tuple[StoredKey | None, str | None]:
        """The key as `by_hash` gives it and, read in the same statement, the case's teams as stored (JSON), None
        for no such case (or no such key: then nobody asks)."""
        with reading(self.engine) as raw:
            row = raw.one(BY_HASH_WITH_TEAMS, {"digest": digest, "case_id": case_id})
        if row is None:
            return None, None
        key_id, name, role, team, key_hash, revoked_at, teams = row
        return StoredKey(key_id, name, role, team, key_hash, revoked_at is not None), teams

    def by_id(self, key_id: str) -> StoredKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            return None
        return StoredKey(row.id, row.name, row.role, row.team, row.key_hash, row.revoked_at is not None)

    def add(self, name: str, role: str, team: str, key_hash: str, prefix: str, now: datetime,
            replace: bool = False) -> None:
        """Store a new key; with `replace`, revoke the active keys of the same name, role and team in the same
        transaction."""
        with writing(self.engine) as conn:
            if replace:
                conn.execute(update(api_keys).where(api_keys.c.name == name, api_keys.c.role == role,
                                                    api_keys.c.team == team, api_keys.c.revoked_at.is_(None))
                             .values(revoked_at=now))
            conn.execute(insert(api_keys).values(id=str(uuid.uuid4()), name=name, role=role, team=team,
                                                 key_hash=key_hash, prefix=prefix, created_at=now))

    def all(self) -> list[Any]:
        """Every key's row (never a key itself: only its hash is stored), oldest first."""
        with self.engine.connect() as conn:
            return conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()

    def revoke(self, key_id: str, now: datetime) -> bool:
        """Revoke an active key; False if there is no active key of that id."""
        with writing(self.engine) as conn:
            done = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                                .values(revoked_at=now))
        return done.rowcount == 1

    def active_admin_exists(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(api_keys.c.id).where(api_keys.c.role == "admin",
                                                            api_keys.c.revoked_at.is_(None))).first() is not None
