"""The transactional outbox: alerts and their deliveries are written in the transaction of the event that raised them."""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Sequence

from sqlalchemy import Connection, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.case_projections import CaseProjections
from events.clock import Clock
from events.projection import CaseState
from events.records import StoredEvent
from events.store import AppendContext

from .matching import Audience, Filter, matches
from .rules import AlertDraft, alerts_for
from .tables import alerts, deliveries, subscriptions

NOTIFY_CHANNEL = "vigil_outbox"


def _insert(conn: Connection, table):
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def active_audiences(conn: Connection) -> list[tuple[str, Audience]]:
    rows = conn.execute(select(subscriptions.c.id, subscriptions.c.team, subscriptions.c.all_teams,
                               subscriptions.c.filter)
                        .where(subscriptions.c.deleted_at.is_(None), subscriptions.c.disabled_at.is_(None)))
    return [(r.id, Audience(r.team, r.all_teams, Filter.from_dict(json.loads(r.filter)))) for r in rows]


def raise_alert(conn: Connection, case_id: str, case: CaseState, draft: AlertDraft, event_type: str | None,
                audiences: Sequence[tuple[str, Audience]], now: datetime,
                only: set[str] | None = None) -> int:
    """Insert the alert (once per dedupe key) and a pending delivery per matching subscription."""
    alert_id = str(uuid.uuid4())
    inserted = conn.execute(_insert(conn, alerts).values(
        id=alert_id, rule=draft.rule, severity=draft.severity, state="open", case_id=case_id,
        event_id=draft.event_id, title=draft.title, raised_at=now, due_at=draft.due_at, late=draft.late,
        dedupe_key=draft.dedupe_key).on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(alerts.c.id)).first()
    if inserted is None:  # raised before (same dedupe key)
        return 0
    rows = [{"id": str(uuid.uuid4()), "alert_id": alert_id, "subscription_id": sub_id, "kind": "raised",
             "target": "channel", "state": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for sub_id, audience in audiences
            if (only is None or sub_id in only) and matches(audience, case_id, case, draft.severity, event_type)]
    if rows:
        conn.execute(deliveries.insert(), rows)
    return len(rows)


def withdraw(conn: Connection, event_id: str, now: datetime) -> int:
    """Withdraw the alerts an event raised, and tell everyone who was told of them."""
    open_alerts = [r.id for r in conn.execute(select(alerts.c.id).where(alerts.c.event_id == event_id,
                                                                       alerts.c.state != "withdrawn"))]
    if not open_alerts:
        return 0
    conn.execute(update(alerts).where(alerts.c.id.in_(open_alerts)).values(state="withdrawn", withdrawn_at=now))
    told = conn.execute(select(deliveries.c.alert_id, deliveries.c.subscription_id)
                        .where(deliveries.c.alert_id.in_(open_alerts), deliveries.c.kind == "raised")).all()
    for alert_id, subscription_id in told:
        conn.execute(_insert(conn, deliveries).values(
            id=str(uuid.uuid4()), alert_id=alert_id, subscription_id=subscription_id, kind="withdrawn",
            target="channel", state="pending", attempts=0, created_at=now, next_attempt_at=now,
        ).on_conflict_do_nothing(index_elements=["alert_id", "subscription_id", "kind"]))
    return len(told)


def notify(conn: Connection) -> None:
    """Wake delivery workers in other processes (PostgreSQL delivers it at commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})


class Outbox:
    """Append hook: turn appended events into alerts and deliveries, in the same transaction."""

    def __init__(self, clock: Clock):
        self.clock = clock

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent],
                 context: AppendContext) -> None:
        if context.quiet:
            return
        row = CaseProjections.get(conn, stream_id)
        now = self.clock.now()
        audiences = None
        created = 0
        for event in appended:
            if event.type == "EventRetracted":
                created += withdraw(conn, str(event.data["event_id"]), now)
                continue
            for draft in alerts_for(event, row.state):
                if audiences is None:
                    audiences = active_audiences(conn)
                created += raise_alert(conn, stream_id, row.state, draft, event.type, audiences, now)
        if created:
            notify(conn)
