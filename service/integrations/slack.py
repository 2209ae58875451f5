"""Slack's side of a button click: the v0 request signature, the block_actions payload, and the message update."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable
from urllib.parse import parse_qs

from notifications.channels.base import slack_escape
from notifications.channels.slack import ACK_ACTION, parse_ack_value

MAX_AGE = timedelta(minutes=5)  # Slack's advice: refuse a request whose timestamp is further off than this
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing secret."""
    base = b"v0:" + timestamp.encode("utf-8") + b":" + body
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def refusal(secrets: Iterable[str], timestamp: str | None, signed: str | None, body: bytes,
            now: datetime) -> str | None:
    """Why the request is not Slack's, fresh and signed with one of `secrets`; None if it is."""
    if not timestamp or not signed:
        return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
    # Seconds since 1970 as Slack writes them; int() alone would take 400 digits (too large for a float: a 500).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "X-Slack-Request-Timestamp is not a number"
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > MAX_AGE.total_seconds():
        return "X-Slack-Request-Timestamp is more than five minutes away from now"
    given = signed.encode("utf-8", "replace")
    # Every secret is tried (no early exit), each in constant time.
    matches = [hmac.compare_digest(signature(secret, timestamp, body).encode(), given) for secret in secrets]
    return None if any(matches) else "X-Slack-Signature does not match"


@dataclass(frozen=True)
class Click:
    alert_id: str
    subscription_id: str
    user_id: str
    user_name: str
    response_url: str | None
    blocks: list[Any]  # the clicked message's blocks, as Slack sent them back


def parse_click(body: bytes) -> Click | None:
    """Our Acknowledge button's click from a block_actions form body (`payload`: JSON), or None."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=10)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, KeyError, IndexError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    action = next((a for a in actions if isinstance(a, dict) and a.get("action_id") == ACK_ACTION), None) \
        if isinstance(actions, list) else None
    named = parse_ack_value(action.get("value")) if action else None
    if named is None:
        return None
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    blocks = message.get("blocks") if isinstance(message.get("blocks"), list) else []
    url = payload.get("response_url")
    return Click(named[0], named[1], _text(user.get("id")), _text(user.get("username") or user.get("name")),
                 url if isinstance(url, str) else None, blocks)


def _text(value: Any) -> str:
    return value[:80] if isinstance(value, str) else ""


def who(click: Click) -> str:
    """The clicking user as Slack shows them: a mention when the id is one, else the escaped name."""
    return f"<@{click.user_id}>" if _USER_ID.match(click.user_id) else slack_escape(click.user_name or "?")


def acknowledged_message(click: Click, note: str) -> dict[str, Any]:
    """The response_url body: the same message, its button replaced by `note` (who acknowledged)."""
    kept = [b for b in click.blocks if isinstance(b, dict) and b.get("type") != "actions"]
    return {"replace_original": True, "text": note,
            "blocks": [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]}
