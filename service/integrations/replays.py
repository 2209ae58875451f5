"""Callbacks already acted on (a Slack signature, a Telegram update id), kept in the database until they could no
longer be accepted anyway, so a replay is refused by every process and replica, and after a restart."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from events.transactions import writing
from notifications.tables import chat_callbacks_seen as seen


class SeenCallbacks:
    def __init__(self, engine: Engine):
        self.engine = engine

    def first_time(self, key: str, now: datetime, keep: timedelta) -> bool:
        """Remember `key` for `keep`; False if it was already remembered (a replay: do nothing). Two requests with
        the same key at once: the primary key lets exactly one of them through."""
        try:
            with writing(self.engine) as conn:
                conn.execute(delete(seen).where(seen.c.expires_at < now))
                conn.execute(insert(seen).values(key=key[:120], expires_at=now + keep))
        except IntegrityError:
            return False
        return True
