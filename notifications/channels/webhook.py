"""Generic webhook: the alert (or a log checkpoint) as JSON, signed per Standard Webhooks (webhook-id = the delivery
id)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Literal

from ..message import Message
from .base import ChannelKind, HttpRequest, json_request
from .config import ChannelSettings, HttpUrlText


class WebhookChannel(ChannelSettings):
    kind: Literal["webhook"]
    url: HttpUrlText


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


def render(channel: WebhookChannel, message: Message, secret: str, now: datetime) -> HttpRequest:
    request = json_request("POST", channel.url, message.webhook_body(now))
    timestamp = int(now.timestamp())
    request.headers.update({
        "webhook-id": message.delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message.delivery_id, timestamp, request.body),
    })
    return request


KIND = ChannelKind("webhook", WebhookChannel, render, url_fields=("url",), form_fields=("url",))
