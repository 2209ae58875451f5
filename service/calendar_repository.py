"""The calendar_links table: what the calendar link service reads and writes (tokens only as their hash)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from events.tables import calendar_links
from events.transactions import writing


class CalendarLinkRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, values: dict[str, Any]) -> None:
        with writing(self.engine) as conn:
            conn.execute(insert(calendar_links).values(**values))

    def by_hash(self, token_hash: str) -> Any:
        """The link of a token, revoked or not, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(calendar_links).where(calendar_links.c.token_hash == token_hash)).first()

    def get(self, link_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(calendar_links).where(calendar_links.c.id == link_id)).first()

    def of_owner(self, owner: str) -> list[Any]:
        """An owner's links, revoked ones too, oldest first."""
        with self.engine.connect() as conn:
            return conn.execute(select(calendar_links).where(calendar_links.c.owner == owner)
                                .order_by(calendar_links.c.created_at, calendar_links.c.id)).all()

    def revoke(self, link_id: str, now: datetime) -> bool:
        """Revoke a live link; False if there is none of that id."""
        with writing(self.engine) as conn:
            done = conn.execute(update(calendar_links).where(calendar_links.c.id == link_id,
                                                             calendar_links.c.revoked_at.is_(None))
                                .values(revoked_at=now))
        return done.rowcount == 1
