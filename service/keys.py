"""API keys: made once, printed once, stored only as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from sqlalchemy import Engine

from events.clock import Clock
from events.utc import iso

from .access import ROLES, Principal
from .key_repository import KeyRepository

KEY_PREFIX = "vgl_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyService:
    """What the API, the dashboard and the CLI do with keys; the SQL is the repository's."""

    def __init__(self, engine: Engine, clock: Clock, repository: KeyRepository | None = None):
        self.clock = clock
        self.repository = repository or KeyRepository(engine)

    def create(self, role: str, team: str, name: str, key: str | None = None, replace: bool = False) -> str:
        """A new key; with `replace`, the active keys of the same name, role and team are revoked in the same
        transaction (how `vigil demo` keeps a single demo admin however often it runs)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key = key or KEY_PREFIX + secrets.token_urlsafe(32)
        self.repository.add(name, role, team, hash_key(key), key[:8], self.clock.now(), replace=replace)
        return key

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a presented key, or None if it is unknown or revoked (callers say nothing more)."""
        digest = hash_key(key)
        found = self.repository.by_hash(digest)
        if found is None or found.revoked or not hmac.compare_digest(found.key_hash, digest):
            return None
        return Principal(found.id, found.name, found.role, found.team)

    def authenticate_for_case(self, key: str, case_id: str) -> tuple[Principal | None, list[str] | None]:
        """`authenticate`, and the teams of the case `case_id` (None if there is no such case) read with the key in
        one statement: the append's access check then reads nothing more. The teams only with a valid key."""
        digest = hash_key(key)
        found, teams = self.repository.by_hash_with_teams(digest, case_id)
        if found is None or found.revoked or not hmac.compare_digest(found.key_hash, digest):
            return None, None
        return Principal(found.id, found.name, found.role, found.team), None if teams is None else json.loads(teams)

    def principal(self, key_id: str) -> Principal | None:
        """The principal of a key by its id, or None if it is unknown or revoked (a calendar link's owner)."""
        found = self.repository.by_id(key_id)
        if found is None or found.revoked:
            return None
        return Principal(found.id, found.name, found.role, found.team)

    def list(self) -> list[dict[str, Any]]:
        return [{"id": r.id, "name": r.name, "role": r.role, "team": r.team, "prefix": r.prefix,
                 "created_at": iso(r.created_at), "revoked": r.revoked_at is not None}
                for r in self.repository.all()]

    def actor_names(self, team: str | None) -> dict[str, str]:
        """How keys show as authors in a history: "<name> (<role>, <team>)" for the reader's own team (every team
        when `team` is None, for admins); another team's keys stay anonymous, since a key's name is often a
        person's."""
        return {f"key:{r.id}": f"{r.name} ({r.role}, {r.team})" if team is None or r.team == team
                else "a key of another team" for r in self.repository.all()}

    def revoke(self, key_id: str) -> bool:
        return self.repository.revoke(key_id, self.clock.now())

    def bootstrap_admin(self, key: str | None) -> bool:
        """Create the VIGIL_BOOTSTRAP_ADMIN_KEY admin if no active admin key exists yet."""
        if not key or self.repository.active_admin_exists():
            return False
        self.create("admin", "admin", "bootstrap admin", key)
        return True
