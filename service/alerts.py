"""The alerts application service: subscriptions by team, the alert inbox, acknowledgement, deliveries and replay."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, select, update

from events.case_projections import CaseProjections
from events.clock import Clock
from events.transactions import writing
from events.tables import events
from events.utc import iso
from notifications.tables import alerts, deliveries, delivery_attempts, subscriptions

from .access import Principal
from .errors import Conflict, NotFound


class AlertService:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def _visible_case_ids(self, who: Principal) -> set[str] | None:
        if who.is_admin:
            return None
        with self.engine.connect() as conn:
            return set(CaseProjections.visible_ids(conn, who.team))

    def list_alerts(self, who: Principal, case_id: str | None = None, state: str | None = None,
                    severity: str | None = None, limit: int = 100, ids: list[str] | None = None
                    ) -> list[dict[str, Any]]:
        """Newest first; `state` None or "all" for every state. Each with its event's own date and precision."""
        query = (select(alerts, events.c.occurred_at.label("event_occurred_at"),
                        events.c.date_precision.label("event_date_precision"))
                 .select_from(alerts.outerjoin(events, and_(events.c.stream_id == alerts.c.case_id,
                                                           events.c.event_id == alerts.c.event_id)))
                 .order_by(alerts.c.raised_at.desc(), alerts.c.id).limit(limit))
        for column, value in ((alerts.c.case_id, case_id), (alerts.c.state, None if state == "all" else state),
                              (alerts.c.severity, severity)):
            if value:
                query = query.where(column == value)
        if ids is not None:
            query = query.where(alerts.c.id.in_(ids))
        visible = self._visible_case_ids(who)
        if visible is not None:
            query = query.where(alerts.c.case_id.in_(visible))
        with self.engine.connect() as conn:
            return [self.alert_view(r) for r in conn.execute(query)]

    @staticmethod
    def alert_view(row) -> dict[str, Any]:
        view = {"id": row.id, "rule": row.rule, "severity": row.severity, "state": row.state, "case_id": row.case_id,
                "event_id": row.event_id, "title": row.title, "raised_at": iso(row.raised_at),
                "due_at": iso(row.due_at), "late": row.late, "acknowledged_at": iso(row.acknowledged_at),
                "acknowledged_by": row.acknowledged_by, "withdrawn_at": iso(row.withdrawn_at)}
        mapping = row._mapping
        if "event_occurred_at" in mapping:  # when the event the alert speaks of happened, as precisely as known
            view["event_occurred_at"] = iso(mapping["event_occurred_at"])
            view["event_date_precision"] = mapping["event_date_precision"]
        return view

    def acknowledge_many(self, who: Principal, alert_ids: list[str]) -> list[dict[str, Any]]:
        """Acknowledge every listed alert, or none: NotFound names the ids that do not exist or that this
        principal's team may not see (the two look the same)."""
        wanted = list(dict.fromkeys(alert_ids))
        with writing(self.engine) as conn:
            query = select(alerts.c.id, alerts.c.case_id).where(alerts.c.id.in_(wanted))
            found = {r.id: r.case_id for r in conn.execute(query)}
            visible = self._visible_case_ids(who)
            missing = [i for i in wanted if i not in found or (visible is not None and found[i] not in visible)]
            if missing:
                raise NotFound("alert", *missing, named=True)
            conn.execute(update(alerts).where(alerts.c.id.in_(wanted), alerts.c.state == "open")
                         .values(state="acknowledged", acknowledged_at=self.clock.now(), acknowledged_by=who.actor))
        return self.list_alerts(who, state="all", limit=len(wanted), ids=wanted)

    def acknowledge(self, who: Principal, alert_id: str) -> dict[str, Any]:
        with writing(self.engine) as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            visible = self._visible_case_ids(who)
            if row is None or (visible is not None and row.case_id not in visible):
                raise NotFound("alert", alert_id)
            if row.state == "open":
                conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.state == "open")
                             .values(state="acknowledged", acknowledged_at=self.clock.now(),
                                     acknowledged_by=who.actor))
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()
        return self.alert_view(row)

    def for_case(self, who: Principal, case_id: str) -> list[dict[str, Any]]:
        """A case's alerts, newest first, each with the deliveries this principal may see and whom they reached."""
        found = self.list_alerts(who, case_id=case_id, limit=1000)
        if not found:
            return found
        query = (select(deliveries, subscriptions.c.name.label("subscription_name"),
                        subscriptions.c.kind.label("channel_kind"))
                 .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                 .where(deliveries.c.alert_id.in_([a["id"] for a in found]))
                 .order_by(deliveries.c.created_at))
        scope = self._subscription_scope(who)
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        reached: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                reached.setdefault(row.alert_id, []).append(
                    {**self.delivery_view(row), "subscription_name": row.subscription_name,
                     "channel_kind": row.channel_kind})
        return [{**a, "deliveries": reached.get(a["id"], [])} for a in found]

    def _subscription_scope(self, who: Principal):
        # An all-teams subscription is an admin's, even though it carries the admin's team: its deliveries speak
        # of other teams' cases, so only admins see them.
        query = select(subscriptions.c.id)
        return None if who.is_admin else query.where(subscriptions.c.team == who.team,
                                                     subscriptions.c.all_teams.is_(False))

    def list_deliveries(self, who: Principal, alert_id: str | None = None, subscription_id: str | None = None,
                        state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(limit)
        for column, value in ((deliveries.c.alert_id, alert_id), (deliveries.c.subscription_id, subscription_id),
                              (deliveries.c.state, state)):
            if value:
                query = query.where(column == value)
        scope = self._subscription_scope(who)
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        with self.engine.connect() as conn:
            return [self.delivery_view(r) for r in conn.execute(query)]

    def delivery(self, who: Principal, delivery_id: str, with_attempts: bool = True) -> dict[str, Any]:
        query = select(deliveries).where(deliveries.c.id == delivery_id)
        scope = self._subscription_scope(who)
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise NotFound("delivery", delivery_id)
            view = self.delivery_view(row)
            if with_attempts:
                view["attempt_log"] = [
                    {"attempted_at": iso(a.attempted_at), "outcome": a.outcome, "status_code": a.status_code,
                     "error": a.error, "duration_ms": a.duration_ms}
                    for a in conn.execute(select(delivery_attempts).where(delivery_attempts.c.delivery_id == row.id)
                                          .order_by(delivery_attempts.c.id))]
        return view

    @staticmethod
    def delivery_view(row) -> dict[str, Any]:
        return {"id": row.id, "alert_id": row.alert_id, "subscription_id": row.subscription_id, "kind": row.kind,
                "target": row.target, "state": row.state, "attempts": row.attempts,
                "next_attempt_at": iso(row.next_attempt_at), "last_error": row.last_error,
                "created_at": iso(row.created_at), "delivered_at": iso(row.delivered_at)}

    def replay(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        self.delivery(who, delivery_id, with_attempts=False)
        now = self.clock.now()
        with writing(self.engine) as conn:
            done = conn.execute(update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.state == "dead")
                                .values(state="pending", next_attempt_at=now, first_attempt_at=None, lease_until=None))
        if done.rowcount != 1:
            raise Conflict("only a dead delivery can be retried")
        return self.delivery(who, delivery_id)
