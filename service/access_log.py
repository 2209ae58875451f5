"""The access log: who read or exported which case, when and from where; append-only and hash-chained."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from events.clock import Clock
from events.transactions import writing
from events.hashchain import GENESIS, canonical_bytes, chain_hash
from events.records import iso
from events.tables import access_log

from .access import Principal

LOCK_KEY = 0x41434345  # "ACCE": orders access-log appends on PostgreSQL, as the store's lock orders events
HEAD = select(access_log.c.hash).order_by(access_log.c.position.desc()).limit(1)
TAKE_LOCK = select(func.pg_advisory_xact_lock(LOCK_KEY))


def _canonical(at: datetime, actor: str, role: str, action: str, case_id: str | None, path: str,
               client: str | None) -> bytes:
    return canonical_bytes([iso(at), actor, role, action, case_id, path, client])


class AccessLog:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def record(self, who: Principal, action: str, case_id: str | None, path: str, client: str | None) -> None:
        with writing(self.engine) as conn:
            self.record_in(conn, who, action, case_id, path, client)

    def record_in(self, conn, who: Principal, action: str, case_id: str | None, path: str,
                  client: str | None) -> None:
        """The entry written in the caller's transaction (with the change it records)."""
        at = self.clock.now()
        path = path[:300]
        if conn.dialect.name == "postgresql":
            conn.execute(TAKE_LOCK)
        prev = conn.execute(HEAD).scalar() or GENESIS
        digest = chain_hash(prev, _canonical(at, who.actor, who.role, action, case_id, path, client))
        conn.execute(insert(access_log), {"at": at, "actor": who.actor, "role": who.role, "action": action,
                                          "case_id": case_id, "path": path, "client": client,
                                          "prev_hash": prev, "hash": digest})

    def entries(self, case_id: str | None = None, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        query = select(access_log).where(access_log.c.position > after).order_by(access_log.c.position).limit(limit)
        if case_id:
            query = query.where(access_log.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [{"position": r.position, "at": iso(r.at), "actor": r.actor, "role": r.role, "action": r.action,
                     "case_id": r.case_id, "path": r.path, "client": r.client, "hash": r.hash}
                    for r in conn.execute(query)]

    def verify(self) -> dict[str, Any]:
        """Recompute the whole chain; name the first entry whose content or link is wrong."""
        prev, count = GENESIS, 0
        with self.engine.connect() as conn:
            for r in conn.execute(select(access_log).order_by(access_log.c.position)):
                if r.prev_hash != prev:
                    return {"ok": False, "entries": count, "bad_position": r.position, "reason": "link broken"}
                if chain_hash(prev, _canonical(r.at, r.actor, r.role, r.action, r.case_id, r.path, r.client)) != r.hash:
                    return {"ok": False, "entries": count, "bad_position": r.position,
                            "reason": "content does not match its hash"}
                prev, count = r.hash, count + 1
        return {"ok": True, "entries": count, "head": prev}
