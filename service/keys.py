"""API keys: made once, printed once, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy import Engine, insert, select, update

from events.clock import Clock
from events.engine import writing
from events.fastsql import Raw
from events.utc import iso
from events.tables import api_keys

from .access import ROLES, Principal

KEY_PREFIX = "vgl_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, clock: Clock, role: str, team: str, name: str, key: str | None = None,
               replace: bool = False) -> str:
    """A new key; with `replace`, the active keys of the same name, role and team are revoked in the same
    transaction (how `vigil demo` keeps a single demo admin however often it runs)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with writing(engine) as conn:
        if replace:
            conn.execute(update(api_keys).where(api_keys.c.name == name, api_keys.c.role == role,
                                                api_keys.c.team == team, api_keys.c.revoked_at.is_(None))
                         .values(revoked_at=now))
        conn.execute(insert(api_keys).values(id=str(uuid.uuid4()), name=name, role=role, team=team,
                                             key_hash=hash_key(key), prefix=key[:8], created_at=now))
    return key


def authenticate(engine: Engine, key: str) -> Principal | None:
    """The principal for a presented key, or None if it is unknown or revoked (callers say nothing more)."""
    digest = hash_key(key)
    with engine.connect() as conn:
        row = Raw(conn).one("SELECT id, name, role, team, key_hash, revoked_at FROM api_keys WHERE key_hash = :h",
                            {"h": digest})
    if row is None or row[5] is not None or not hmac.compare_digest(row[4], digest):
        return None
    return Principal(row[0], row[1], row[2], row[3])


def list_keys(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
    return [{"id": r.id, "name": r.name, "role": r.role, "team": r.team, "prefix": r.prefix,
             "created_at": iso(r.created_at), "revoked": r.revoked_at is not None} for r in rows]


def actor_names(engine: Engine, team: str | None) -> dict[str, str]:
    """How keys show as authors in a history: "<name> (<role>, <team>)" for the reader's own team (every team
    when `team` is None, for admins); another team's keys stay anonymous, since a key's name is often a person's."""
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.team)).all()
    return {f"key:{r.id}": f"{r.name} ({r.role}, {r.team})" if team is None or r.team == team
            else "a key of another team" for r in rows}


def revoke_key(engine: Engine, clock: Clock, key_id: str) -> bool:
    with writing(engine) as conn:
        done = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=clock.now()))
    return done.rowcount == 1


def bootstrap_admin(engine: Engine, clock: Clock, key: str | None) -> bool:
    """Create the VIGIL_BOOTSTRAP_ADMIN_KEY admin if no active admin key exists yet."""
    if not key:
        return False
    with engine.connect() as conn:
        exists = conn.execute(select(api_keys.c.id).where(api_keys.c.role == "admin",
                                                          api_keys.c.revoked_at.is_(None))).first()
    if exists:
        return False
    create_key(engine, clock, "admin", "admin", "bootstrap admin", key)
    return True
