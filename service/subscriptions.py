"""The subscriptions application service: subscribe, unsubscribe, send a test, read a team's subscriptions."""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine

from events.clock import Clock
from events.i18n import Said, phrase
from notifications.channels import url_fields
from notifications.reminders import ReminderPlanner
from notifications.ssrf import TargetRefused, check_url
from notifications.subscriptions import SubscriptionIn, Subscriptions
from notifications.worker import DeliveryWorker

from .access import Principal
from .alerts import AlertService
from .errors import Forbidden, InputError, NotFound
from .settings import Settings

def refuse_internal_targets(body: SubscriptionIn) -> None:
    """InputError naming the field whose URL resolves to an internal address (or does not resolve)."""
    for where, channel in (("channel", body.channel), ("escalate_to", body.escalate_to)):
        for field in url_fields(channel) if channel is not None else ():
            url = getattr(channel, field, None)
            if url:
                try:
                    check_url(url)
                except TargetRefused as exc:
                    raise InputError([{"loc": ["body", where, field], "msg": str(exc),
                                       "type": "target_refused"}]) from None


def refuse_unusable_channels(body: SubscriptionIn, smtp_host: str | None) -> None:
    """InputError on an email channel when no SMTP server is configured: its every delivery would fail."""
    if smtp_host:
        return
    errors = [{"loc": ["body", where, "kind"], "msg": "email needs VIGIL_SMTP_HOST set", "type": "channel_unavailable"}
              for where, channel in (("channel", body.channel), ("escalate_to", body.escalate_to))
              if channel is not None and channel.kind == "email"]
    if errors:
        raise InputError(errors)


class SubscriptionService:
    """What the API and the dashboard do with subscriptions; storing them is `notifications.subscriptions`'s."""

    def __init__(self, subscriptions: Subscriptions, planner: ReminderPlanner, engine: Engine,
                 worker: DeliveryWorker, alerts: AlertService, clock: Clock, settings: Settings):
        self.subscriptions, self.planner, self.engine = subscriptions, planner, engine
        self.worker, self.alerts, self.clock, self.settings = worker, alerts, clock, settings

    @property
    def smtp_host(self) -> str | None:
        return self.worker.smtp.host  # what the worker will send email with

    @property
    def allow_private_networks(self) -> bool:
        return self.settings.webhook_allow_private_networks

    def own(self, who: Principal, sub_id: str) -> dict[str, Any]:
        """The subscription, or NotFound if it does not exist, belongs to another team, or is an admin's all-teams
        one (admins see all)."""
        sub = self.subscriptions.get(sub_id)
        if sub is None or not (who.is_admin or (sub["team"] == who.team and not sub["all_teams"])):
            raise NotFound("subscription", sub_id)
        return sub

    def list(self, who: Principal) -> list[dict[str, Any]]:
        """The subscriptions of this principal's team (every team's for admins)."""
        return self.subscriptions.list(None if who.is_admin else who.team)

    def subscribe(self, who: Principal, body: SubscriptionIn) -> dict[str, Any]:
        """Create a subscription for this principal's team."""
        if body.include_personal_data and not who.is_admin:
            raise Forbidden(Said(phrase("only an admin may turn on include_personal_data")))
        refuse_unusable_channels(body, self.smtp_host)
        if not self.allow_private_networks:
            refuse_internal_targets(body)
        created = self.subscriptions.create(body, who.team, who.is_admin, who.actor)
        self.planner.replan_all(self.engine)  # its reminder offsets may be new
        return created

    def unsubscribe(self, who: Principal, sub_id: str) -> None:
        self.own(who, sub_id)
        self.subscriptions.delete(sub_id)
        self.planner.replan_all(self.engine)  # its reminders are no longer due to anyone

    async def send_test(self, who: Principal, sub_id: str) -> dict[str, Any]:
        """Send a test message through a subscription now; the delivery, with its attempt."""
        await asyncio.to_thread(self.own, who, sub_id)
        claimed = await asyncio.to_thread(self.worker.claim_test, sub_id, self.clock.now())
        await self.worker.deliver(claimed)
        return await asyncio.to_thread(self.alerts.delivery, who, claimed.id)
