"""The log's checkpoints to outsiders who asked for copies: one `log.checkpoint` delivery per opted-in subscription."""
from __future__ import annotations

import uuid
from typing import Callable

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.clock import Clock
from events.transactions import writing

from .outbox import notify
from .tables import deliveries, subscriptions

KIND = "checkpoint"

# Every team's: a checkpoint is of the whole log, hashes and signatures only, so no team's data reaches another.
OPTED_IN = select(subscriptions.c.id).where(
    subscriptions.c.log_checkpoints.is_(True), subscriptions.c.kind == "webhook",
    subscriptions.c.deleted_at.is_(None), subscriptions.c.disabled_at.is_(None))


class CheckpointFanout:
    """Told the size of each checkpoint the log signed and offered to its witnesses (LogSigning.on_signed): queues
    its deliveries in one transaction for the worker, which sends them with the cosignatures gathered by then."""

    def __init__(self, engine: Engine, clock: Clock, wake: Callable[[], None] | None = None):
        self.engine, self.clock, self.wake = engine, clock, wake
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def queue(self, tree_size: int) -> int:
        """One pending delivery of this checkpoint per opted-in active subscription (once: a second call for the
        same size adds none); returns how many were queued."""
        now = self.clock.now()
        with writing(self.engine) as conn:
            targets = list(conn.execute(OPTED_IN).scalars())
            if not targets:
                return 0
            queued = conn.execute(self._insert(deliveries).on_conflict_do_nothing(
                index_elements=["tree_size", "subscription_id"]).returning(deliveries.c.id), [
                {"id": str(uuid.uuid4()), "alert_id": None, "subscription_id": sub_id, "kind": KIND,
                 "target": "channel", "state": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now,
                 "tree_size": tree_size} for sub_id in targets]).all()
            if queued:
                notify(conn)
        if queued and self.wake is not None:
            self.wake()
        return len(queued)
