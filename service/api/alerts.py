"""Subscriptions, alerts, deliveries and channel previews."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from notifications import channels
from notifications.channels.base import HttpRequest
from notifications.channels import Channel
from notifications.message import sample_message
from notifications.subscriptions import SubscriptionIn, new_secret
from service.access import Principal
from service.container import Container

from .deps import container, principal, writer

router = APIRouter(prefix="/v1", tags=["alerts"])

AlertState = Literal["open", "acknowledged", "withdrawn", "all"]
DeliveryState = Literal["pending", "delivered", "failed", "dead"]
SeverityName = Literal["info", "warning", "high", "critical"]


@router.post("/subscriptions", status_code=201)
def create_subscription(body: SubscriptionIn, who: Principal = Depends(writer), box: Container = Depends(container)):
    return box.subscription_service.subscribe(who, body)


@router.get("/subscriptions")
def list_subscriptions(who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"items": box.subscription_service.list(who)}


@router.get("/subscriptions/{sub_id}")
def get_subscription(sub_id: str, who: Principal = Depends(principal), box: Container = Depends(container)):
    return box.subscription_service.own(who, sub_id)


@router.delete("/subscriptions/{sub_id}", status_code=204)
def delete_subscription(sub_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    box.subscription_service.unsubscribe(who, sub_id)


@router.post("/subscriptions/{sub_id}/test")
async def test_subscription(sub_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    return await box.subscription_service.send_test(who, sub_id)


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
    return {"items": box.alerts.acknowledge_many(who, body.ids)}


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    return box.alerts.acknowledge(who, alert_id)


@router.get("/deliveries")
def list_deliveries(alert_id: str | None = None, subscription_id: str | None = None,
                    state: DeliveryState | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                    who: Principal = Depends(principal), box: Container = Depends(container)):
    return {"items": box.alerts.list_deliveries(who, alert_id, subscription_id, state, limit)}


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: str, who: Principal = Depends(principal), box: Container = Depends(container)):
    return box.alerts.delivery(who, delivery_id)


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(delivery_id: str, who: Principal = Depends(writer), box: Container = Depends(container)):
    view = box.alerts.replay(who, delivery_id)
    box.worker.wake()
    return view
