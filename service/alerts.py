"""The alerts application service: the alert inbox, acknowledgement, deliveries and replay (SQL in its repository)."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Engine

from events.clock import Clock
from events.i18n import Said, from_json, phrase, stored_title
from events.utc import iso

from .access import Principal
from .alert_repository import AlertRepository
from .errors import Conflict, NotFound


def _via(stored: str | None) -> str | None:
    """How an alert was acknowledged from a message's link ("email link, subscription 'FR desk'"), or None."""
    words = from_json(stored)
    return Said(words) if words is not None else None


class AlertService:
    def __init__(self, engine: Engine, clock: Clock, repository: AlertRepository | None = None,
                 on_change: Callable[[], None] | None = None):
        self.clock = clock
        self.repository = repository or AlertRepository(engine)
        self.on_change = on_change or (lambda: None)  # after alerts were acknowledged (the live pages' feed)

    def _visible_case_ids(self, who: Principal) -> set[str] | None:
        return None if who.is_admin else self.repository.visible_case_ids(who.team)

    def list_alerts(self, who: Principal, case_id: str | None = None, state: str | None = None,
                    severity: str | None = None, limit: int = 100, ids: list[str] | None = None
                    ) -> list[dict[str, Any]]:
        """Newest first; `state` None or "all" for every state. Each with its event's own date and precision."""
        rows = self.repository.alerts(case_id=case_id, state=None if state == "all" else state, severity=severity,
                                      limit=limit, ids=ids, visible=self._visible_case_ids(who))
        return [self.alert_view(r) for r in rows]

    @staticmethod
    def alert_view(row) -> dict[str, Any]:
        view = {"id": row.id, "rule": row.rule, "severity": row.severity, "state": row.state, "case_id": row.case_id,
                "event_id": row.event_id, "title": stored_title(row.title, row.title_phrase),
                "raised_at": iso(row.raised_at),
                "due_at": iso(row.due_at), "late": row.late, "acknowledged_at": iso(row.acknowledged_at),
                "acknowledged_by": row.acknowledged_by, "acknowledged_via": _via(row.acknowledged_via),
                "withdrawn_at": iso(row.withdrawn_at)}
        mapping = row._mapping
        if "event_occurred_at" in mapping:  # when the event the alert speaks of happened, as precisely as known
            view["event_occurred_at"] = iso(mapping["event_occurred_at"])
            view["event_date_precision"] = mapping["event_date_precision"]
        return view

    def acknowledge_many(self, who: Principal, alert_ids: list[str]) -> list[dict[str, Any]]:
        """Acknowledge every listed alert, or none: NotFound names the ids that do not exist or that this
        principal's team may not see (the two look the same)."""
        wanted = list(dict.fromkeys(alert_ids))
        visible = self._visible_case_ids(who)
        missing = self.repository.acknowledge(wanted, lambda case_id: visible is None or case_id in visible,
                                              self.clock.now(), who.actor)
        if missing:
            raise NotFound("alert", *missing, named=True)
        self.on_change()
        return self.list_alerts(who, state="all", limit=len(wanted), ids=wanted)

    def acknowledge(self, who: Principal, alert_id: str) -> dict[str, Any]:
        visible = self._visible_case_ids(who)
        if self.repository.acknowledge([alert_id], lambda case_id: visible is None or case_id in visible,
                                       self.clock.now(), who.actor):
            raise NotFound("alert", alert_id)
        self.on_change()
        return self.list_alerts(who, state="all", limit=1, ids=[alert_id])[0]

    def acknowledge_from_channel(self, alert_id: str, subscription: dict[str, Any], actor: str, via: str) -> bool:
        """Acknowledge an alert from a button in a subscription's message (its signature already verified): only
        an alert of a case the subscription's team may see (any, for an admin's all-teams subscription), else
        NotFound. Records who (`actor`) and how (`via`); escalation stops as for any acknowledgement. True if this
        call acknowledged it, False if it was no longer open."""
        visible = None if subscription["all_teams"] else self.repository.visible_case_ids(subscription["team"])
        before = self.repository.acknowledge_via(alert_id, subscription["id"],
                                                 lambda case_id: visible is None or case_id in visible,
                                                 self.clock.now(), actor, via)
        if before is None:
            raise NotFound("alert", alert_id)
        if before == "open":
            self.on_change()
        return before == "open"

    def for_case(self, who: Principal, case_id: str) -> list[dict[str, Any]]:
        """A case's alerts, newest first, each with the deliveries this principal may see and whom they reached."""
        found = self.list_alerts(who, case_id=case_id, limit=1000)
        if not found:
            return found
        reached: dict[str, list[dict[str, Any]]] = {}
        for row in self.repository.deliveries_with_subscription([a["id"] for a in found], self._scope(who)):
            reached.setdefault(row.alert_id, []).append(
                {**self.delivery_view(row), "subscription_name": row.subscription_name,
                 "channel_kind": row.channel_kind})
        return [{**a, "deliveries": reached.get(a["id"], [])} for a in found]

    def _scope(self, who: Principal):
        return self.repository.subscription_scope(None if who.is_admin else who.team)

    def list_deliveries(self, who: Principal, alert_id: str | None = None, subscription_id: str | None = None,
                        state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.repository.deliveries(alert_id=alert_id, subscription_id=subscription_id, state=state,
                                          limit=limit, scope=self._scope(who))
        return [self.delivery_view(r) for r in rows]

    def delivery(self, who: Principal, delivery_id: str, with_attempts: bool = True) -> dict[str, Any]:
        found = self.repository.delivery(delivery_id, self._scope(who), with_attempts)
        if found is None:
            raise NotFound("delivery", delivery_id)
        row, attempts = found
        view = self.delivery_view(row)
        if with_attempts:
            view["attempt_log"] = [{"attempted_at": iso(a.attempted_at), "outcome": a.outcome,
                                    "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
                                   for a in attempts]
        return view

    @staticmethod
    def delivery_view(row) -> dict[str, Any]:
        return {"id": row.id, "alert_id": row.alert_id, "subscription_id": row.subscription_id, "kind": row.kind,
                "target": row.target, "state": row.state, "attempts": row.attempts,
                "next_attempt_at": iso(row.next_attempt_at), "last_error": row.last_error,
                "created_at": iso(row.created_at), "delivered_at": iso(row.delivered_at),
                "tree_size": row.tree_size}  # a checkpoint delivery's checkpoint (kind "checkpoint")

    def replay(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        self.delivery(who, delivery_id, with_attempts=False)
        if not self.repository.replay(delivery_id, self.clock.now()):
            raise Conflict(Said(phrase("only a dead delivery can be retried")))
        return self.delivery(who, delivery_id)
