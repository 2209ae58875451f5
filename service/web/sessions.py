"""Dashboard sessions: a random token in a signed cookie, its hash and CSRF token in the database; a session belongs
to an API key or to a person (and ends when the key is revoked or the person disabled)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, null, select, update

from events.clock import Clock
from events.transactions import writing
from events.tables import api_keys, people, web_sessions

from ..access import Principal
from ..signin_throttle import lock_in_force

COOKIE_NAME = "vigil_session"
LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    id_hash: str
    principal: Principal
    csrf_token: str
    timezone: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Creates, finds and ends sessions; a cookie whose signature fails is refused before any lookup."""

    def __init__(self, engine: Engine, clock: Clock, signing_key: bytes, lifetime: timedelta = LIFETIME):
        self.engine, self.clock, self._key, self.lifetime = engine, clock, signing_key, lifetime

    def _sign(self, token: str) -> str:
        mac = hmac.new(self._key, token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def start(self, who: Principal, timezone: str, client: str | None = None) -> str:
        """A new session for this key or person; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        owner = {"person_id": who.key_id} if who.is_person else {"key_id": who.key_id}
        with writing(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
            conn.execute(insert(web_sessions).values(
                id_hash=_digest(token), csrf_token=secrets.token_urlsafe(32), timezone=timezone, created_at=now,
                expires_at=now + self.lifetime, client=(client or "")[:64] or None, **owner))
        return f"{token}.{self._sign(token)}"

    def find(self, cookie: str | None) -> Session | None:
        """The live session for a cookie, or None (bad signature, unknown, expired, its key revoked, or its person
        disabled, not yet enrolled or locked out)."""
        if not cookie or "." not in cookie:
            return None
        token, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(token).encode()):
            return None
        digest = _digest(token)
        by_key = (select(web_sessions.c.id_hash, web_sessions.c.csrf_token, web_sessions.c.timezone,
                         web_sessions.c.expires_at, api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.team,
                         null().label("locked_at"), null().label("failed_at"))
                  .join(api_keys, api_keys.c.id == web_sessions.c.key_id)
                  .where(web_sessions.c.id_hash == digest, api_keys.c.revoked_at.is_(None)))
        by_person = (select(web_sessions.c.id_hash, web_sessions.c.csrf_token, web_sessions.c.timezone,
                            web_sessions.c.expires_at, people.c.id, people.c.name, people.c.role, people.c.team,
                            people.c.locked_at, people.c.failed_at)
                     .join(people, people.c.id == web_sessions.c.person_id)
                     .where(web_sessions.c.id_hash == digest, people.c.disabled_at.is_(None),
                            people.c.enrolled_at.is_not(None)))
        with self.engine.connect() as conn:
            row, kind = conn.execute(by_key).first(), "key"
            if row is None:
                row, kind = conn.execute(by_person).first(), "person"
        now = self.clock.now()
        if row is None or row.expires_at <= now or lock_in_force(row.locked_at, row.failed_at, now):
            return None
        return Session(row[0], Principal(row[4], row[5], row[6], row[7], kind=kind), row[1], row[2])

    def of_person(self, person_id: str) -> list[dict]:
        """A person's live sessions, newest first (the id is the token's hash, never the token)."""
        now = self.clock.now()
        query = (select(web_sessions.c.id_hash, web_sessions.c.created_at, web_sessions.c.expires_at,
                        web_sessions.c.client)
                 .where(web_sessions.c.person_id == person_id, web_sessions.c.expires_at > now)
                 .order_by(web_sessions.c.created_at.desc()))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def end_own(self, person_id: str, id_hash: str) -> bool:
        """End one of this person's sessions; False if they have none of that id."""
        with writing(self.engine) as conn:
            done = conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash,
                                                           web_sessions.c.person_id == person_id))
        return done.rowcount == 1

    def set_timezone(self, session: Session, timezone: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == session.id_hash)
                         .values(timezone=timezone))

    def end(self, session: Session) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == session.id_hash))


def csrf_ok(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(expected.encode(), presented.encode())
