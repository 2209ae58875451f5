"""Subscriptions, alerts, deliveries and channel previews."""
from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from notifications import channels
from notifications.channels.base import HttpRequest
from notifications.channels import Channel, url_fields
from notifications.message import sample_message
from notifications.subscriptions import SubscriptionIn, new_secret
from service.access import Principal
from service.alerts import Conflict, Forbidden
from service.cases import InputError, NotFound
from notifications.ssrf import TargetRefused, check_url
from service.container import Container

from .deps import container, principal, writer

router = APIRouter(prefix="/v1", tags=["alerts"])


def refuse_internal_targets(body: SubscriptionIn) -> None:
    """422 naming the field whose URL resolves to an internal address (or does not resolve)."""
    for where, channel in (("channel", body.channel), ("escalate_to", body.escalate_to)):
        for field in url_fields(channel):
            url = getattr(channel, field, None) if channel is not None else None
            if url:
                try:
                    check_url(url)
                except TargetRefused as exc:
                    raise InputError([{"loc": ["body", where, field], "msg": str(exc),
                                       "type": "target_refused"}]) from None


def refuse_unusable_channels(body: SubscriptionIn, smtp_host: str | None) -> None:
    """422 on an email channel when no SMTP server is configured: its every delivery would fail."""
    if smtp_host:
        return
    errors = [{"loc": ["body", where, "kind"], "msg": "email needs VIGIL_SMTP_HOST set", "type": "channel_unavailable"}
              for where, channel in (("channel", body.channel), ("escalate_to", body.escalate_to))
              if channel is not None and channel.kind == "email"]
    if errors:
        raise InputError(errors)


AlertState = Literal["open", "acknowledged", "withdrawn", "all"]
DeliveryState = Literal["pending", "delivered", "failed", "dead"]
SeverityName = Literal["info", "warning", "high", "critical"]


def own_subscription(box: Container, who: Principal, sub_id: str) -> dict:
    """The subscription, or NotFound if it does not exist, belongs to another team, or is an admin's all-teams one
    (admins see all)."""
    sub = box.subscriptions.get(sub_id)
    if sub is None or not (who.is_admin or (sub["team"] == who.team and not sub["all_teams"])):
        raise NotFound(sub_id)
    return sub




def subscribe(box: Container, who: Principal, body: SubscriptionIn) -> dict:
    """Create a subscription for this principal's team (shared by the API and the dashboard)."""
    if body.include_personal_data and not who.is_admin:
        raise Forbidden("only an admin may turn on include_personal_data")
    refuse_unusable_channels(body, box.smtp.host)
    if not box.settings.webhook_allow_private_networks:
        refuse_internal_targets(body)
    created = box.subscriptions.create(body, who.team, who.is_admin, who.actor)
    box.planner.replan_all(box.engine)  # its reminder offsets may be new
    return created


def unsubscribe(box: Container, who: Principal, sub_id: str) -> None:
    own_subscription(box, who, sub_id)
    box.subscriptions.delete(sub_id)
    box.planner.replan_all(box.engine)  # its reminders are no longer due to anyone


async def send_test(box: Container, who: Principal, sub_id: str) -> dict:
    """Send a test message through a subscription now; the delivery, with its attempt."""
    await asyncio.to_thread(own_subscription, box, who, sub_id)
    claimed = await asyncio.to_thread(box.worker.claim_test, sub_id, box.clock.now())
    await box.worker.deliver(claimed)
    return await asyncio.to_thread(box.alerts.delivery, who, claimed.id)


@router.post("/subscriptions", status_code=201)
def create_subscription(body: SubscriptionIn, who: Principal = Depends(writer), box: Container = Depends(container)):
    try:
        return subscribe(box, who, body)
    except Forbidden as exc:
        raise HTTPException(403, str(exc)) from None


@router.get("/subscriptions")
def list_subscriptions(who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"items": box.subscriptions.list(None if who.is_admin else who.team)}


@router.get("/subscriptions/{sub_id}")
def get_subscription(sub_id: str, who: Principal = Depends(principal), box: Container = Depends(container)):
    try:
        return own_subscription(box, who, sub_id)
    except NotFound:
        raise HTTPException(404, "subscription not found") from None


@router.delete("/subscriptions/{sub_id}", status_code=204)
def delete_subscription(sub_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    try:
        unsubscribe(box, who, sub_id)
    except NotFound:
        raise HTTPException(404, "subscription not found") from None


@router.post("/subscriptions/{sub_id}/test")
async def test_subscription(sub_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    try:
        return await send_test(box, who, sub_id)
    except NotFound:
        raise HTTPException(404, "subscription not found") from None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    kind: Literal["raised", "escalated", "withdrawn", "test"] = "raised"


@router.post("/channels/preview")
def preview_channel(body: PreviewIn, who: Principal = Depends(principal), box: Container = Depends(container)):
    """What a message to this channel would look like (a made-up alert), without sending anything."""
    now = box.clock.now()
    rendered = channels.render(body.channel, sample_message(body.kind), new_secret(), now, box.smtp)
    if isinstance(rendered, HttpRequest):
        headers = {k: v for k, v in rendered.headers.items() if k != "authorization"}
        return {"kind": body.channel.kind, "method": rendered.method, "url": rendered.shown_url(),
                "headers": headers, "body": rendered.json()}
    return {"kind": "email", "subject": rendered["Subject"], "to": rendered["To"],
            "text": rendered.get_body(("plain",)).get_content(), "html": rendered.get_body(("html",)).get_content()}


@router.get("/alerts")
def list_alerts(case_id: str | None = None, state: AlertState | None = None, severity: SeverityName | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"items": box.alerts.list_alerts(who, case_id, state, severity, limit)}


AlertId = Annotated[str, Field(min_length=1, max_length=64)]


class BulkAckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[AlertId], Field(min_length=1, max_length=500)]


@router.post("/alerts/ack")
def acknowledge_many(body: BulkAckIn, who: Principal = Depends(writer), box: Container = Depends(container)):
    """Acknowledge several alerts at once: all of them, or none if any id is unknown to the caller's team (404)."""
    try:
        return {"items": box.alerts.acknowledge_many(who, body.ids)}
    except NotFound as exc:
        raise HTTPException(404, f"alert not found: {exc}") from None


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    try:
        return box.alerts.acknowledge(who, alert_id)
    except NotFound:
        raise HTTPException(404, "alert not found") from None


@router.get("/deliveries")
def list_deliveries(alert_id: str | None = None, subscription_id: str | None = None,
                    state: DeliveryState | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                    who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"items": box.alerts.list_deliveries(who, alert_id, subscription_id, state, limit)}


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: str, who: Principal = Depends(principal), box: Container = Depends(container)):
    try:
        return box.alerts.delivery(who, delivery_id)
    except NotFound:
        raise HTTPException(404, "delivery not found") from None


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(delivery_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    try:
        view = box.alerts.replay(who, delivery_id)
    except NotFound:
        raise HTTPException(404, "delivery not found") from None
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    box.worker.wake()
    return view
