"""The SQL of the alerts service: the inbox, acknowledgements, deliveries and their attempts, replays."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, Engine, and_, select, update

from events.case_projections import CaseProjections
from events.tables import events
from events.transactions import writing
from notifications.tables import alerts, deliveries, delivery_attempts, subscriptions

# An alert with its event's own date and precision (when the event the alert speaks of happened).
ALERTS_WITH_EVENT = (select(alerts, events.c.occurred_at.label("event_occurred_at"),
                            events.c.date_precision.label("event_date_precision"))
                     .select_from(alerts.outerjoin(events, and_(events.c.stream_id == alerts.c.case_id,
                                                               events.c.event_id == alerts.c.event_id))))


class AlertRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def visible_case_ids(self, team: str) -> set[str]:
        with self.engine.connect() as conn:
            return set(CaseProjections.visible_ids(conn, team))

    def alerts(self, *, case_id: str | None, state: str | None, severity: str | None, limit: int,
               ids: list[str] | None, visible: set[str] | None) -> list[Any]:
        """Newest first, filtered by whichever of the arguments are given."""
        query = ALERTS_WITH_EVENT.order_by(alerts.c.raised_at.desc(), alerts.c.id).limit(limit)
        for column, value in ((alerts.c.case_id, case_id), (alerts.c.state, state), (alerts.c.severity, severity)):
            if value:
                query = query.where(column == value)
        if ids is not None:
            query = query.where(alerts.c.id.in_(ids))
        if visible is not None:
            query = query.where(alerts.c.case_id.in_(visible))
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def acknowledge(self, alert_ids: list[str], may_see: Any, when: datetime, actor: str) -> list[str]:
        """In one transaction: the ids that do not exist or are not `may_see(case_id)` (then nothing changes),
        else every open one among them acknowledged and []."""
        with writing(self.engine) as conn:
            found = {r.id: r.case_id for r in conn.execute(select(alerts.c.id, alerts.c.case_id)
                                                           .where(alerts.c.id.in_(alert_ids)))}
            missing = [i for i in alert_ids if i not in found or not may_see(found[i])]
            if not missing:
                conn.execute(update(alerts).where(alerts.c.id.in_(alert_ids), alerts.c.state == "open")
                             .values(state="acknowledged", acknowledged_at=when, acknowledged_by=actor))
        return missing

    def acknowledge_via(self, alert_id: str, subscription_id: str, may_see: Any, when: datetime, actor: str,
                        via: str) -> str | None:
        """One alert acknowledged from a subscription's message (a chat button), recording how: its state before
        (an open one is acknowledged now; any other is left as it is), or None if it does not exist, is not
        `may_see(case_id)`, or the subscription is deleted or disabled by the time of the update."""
        live = _live(subscription_id)
        with writing(self.engine) as conn:
            row = conn.execute(select(alerts.c.case_id, alerts.c.state).where(alerts.c.id == alert_id)).first()
            if row is None or not may_see(row.case_id):
                return None
            if row.state == "open":
                done = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.state == "open", live)
                                    .values(state="acknowledged", acknowledged_at=when, acknowledged_by=actor[:100],
                                            acknowledged_via=via))
                if done.rowcount != 1 and not conn.execute(select(live)).scalar():
                    return None
        return row.state

    def link_target(self, alert_id: str, subscription_id: str) -> tuple[Any, Any, bool] | None:
        """For an acknowledge link: the alert (with its event's date), the subscription, and whether that
        subscription was sent a message about that alert; None if the alert or subscription does not exist."""
        with self.engine.connect() as conn:
            alert = conn.execute(ALERTS_WITH_EVENT.where(alerts.c.id == alert_id)).first()
            sub = conn.execute(select(subscriptions.c.id, subscriptions.c.name, subscriptions.c.team,
                                      subscriptions.c.deleted_at, subscriptions.c.disabled_at)
                               .where(subscriptions.c.id == subscription_id)).first()
            if alert is None or sub is None:
                return None
            sent = conn.execute(select(deliveries.c.id).where(deliveries.c.alert_id == alert_id,
                                                              deliveries.c.subscription_id == subscription_id)
                                .limit(1)).first() is not None
        return alert, sub, sent

    def acknowledge_open(self, alert_id: str, subscription_id: str, when: datetime, actor: str, via: str | None,
                         then: Callable[[Connection], None]) -> bool:
        """Acknowledge one alert, for a subscription, if the alert is still open and the subscription neither deleted
        nor disabled, and in the same transaction run `then` (the access log's entry); False (and nothing written)
        otherwise. The subscription is checked in the update itself, so one disabled since it was read cannot act."""
        with writing(self.engine) as conn:
            done = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.state == "open",
                                                     _live(subscription_id))
                                .values(state="acknowledged", acknowledged_at=when, acknowledged_by=actor,
                                        acknowledged_via=via))
            if done.rowcount != 1:
                return False
            then(conn)
        return True

    @staticmethod
    def subscription_scope(team: str | None):
        """The subscriptions a team's deliveries may come from (None: every one, for admins). An all-teams
        subscription is an admin's though it carries the admin's team: its deliveries speak of other teams' cases."""
        if team is None:
            return None
        return select(subscriptions.c.id).where(subscriptions.c.team == team, subscriptions.c.all_teams.is_(False))

    def deliveries_with_subscription(self, alert_ids: Iterable[str], scope) -> list[Any]:
        query = (select(deliveries, subscriptions.c.name.label("subscription_name"),
                        subscriptions.c.kind.label("channel_kind"))
                 .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                 .where(deliveries.c.alert_id.in_(list(alert_ids))).order_by(deliveries.c.created_at))
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def deliveries(self, *, alert_id: str | None, subscription_id: str | None, state: str | None, limit: int,
                   scope) -> list[Any]:
        query = select(deliveries).order_by(deliveries.c.created_at.desc()).limit(limit)
        for column, value in ((deliveries.c.alert_id, alert_id), (deliveries.c.subscription_id, subscription_id),
                              (deliveries.c.state, state)):
            if value:
                query = query.where(column == value)
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def delivery(self, delivery_id: str, scope, with_attempts: bool) -> tuple[Any, list[Any]] | None:
        query = select(deliveries).where(deliveries.c.id == delivery_id)
        if scope is not None:
            query = query.where(deliveries.c.subscription_id.in_(scope))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            attempts = list(conn.execute(select(delivery_attempts).where(delivery_attempts.c.delivery_id == row.id)
                                         .order_by(delivery_attempts.c.id))) if with_attempts else []
        return row, attempts

    def replay(self, delivery_id: str, now: datetime) -> bool:
        """Send a dead delivery again from scratch; False if it is not dead."""
        with writing(self.engine) as conn:
            done = conn.execute(update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.state == "dead")
                                .values(state="pending", next_attempt_at=now, first_attempt_at=None, lease_until=None,
                                        leased_by=None))
        return done.rowcount == 1


def _live(subscription_id: str):
    """EXISTS: the subscription is neither deleted nor disabled (checked inside the statement that acts for it)."""
    return (select(subscriptions.c.id).where(subscriptions.c.id == subscription_id,
                                             subscriptions.c.deleted_at.is_(None),
                                             subscriptions.c.disabled_at.is_(None)).exists())
