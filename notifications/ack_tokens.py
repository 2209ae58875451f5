"""Acknowledge-link tokens: an alert, the subscription and channel kind a message went to, and an expiry, signed
with HMAC-SHA256 under a key of their own (derived from the master key for this use alone) and checked in
constant time. Pure: the caller gives the key and `now`."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

VERSION = "a1"
# From the alert's raising: long enough for a message read after a weekend or a short leave, short enough that a
# link forwarded or left in a mailbox stops working once the alert is long past (escalation acts within hours).
LIFETIME = timedelta(days=7)
KEY_PURPOSE = "ack-link"  # PersonalDataCipher.derive_key's label for the signing key
MAX_LENGTH = 300

_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_KIND = re.compile(r"[a-z]{1,16}")
_EXPIRY = re.compile(r"[1-9][0-9]{0,10}")  # canonical seconds: no sign, no leading zero, no spaces

Reason = Literal["malformed", "altered", "expired", "wrong alert"]


@dataclass(frozen=True)
class AckGrant:
    """What a valid token lets its holder do: acknowledge this alert, as this subscription's message."""
    alert_id: str
    subscription_id: str
    channel_kind: str
    expires_at: datetime


class TokenRefused(Exception):
    def __init__(self, reason: Reason):
        super().__init__(reason)
        self.reason = reason


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(key: bytes, alert_id: str, subscription_id: str, channel_kind: str, expires_at: datetime) -> str:
    """The token (URL-safe: letters, digits, '-', '_' and '.')."""
    if not (_ID.fullmatch(alert_id) and _ID.fullmatch(subscription_id) and _KIND.fullmatch(channel_kind)):
        raise ValueError("alert and subscription ids must be short ids, the channel kind a short word")
    payload = f"{VERSION}.{alert_id}.{subscription_id}.{channel_kind}.{int(expires_at.timestamp())}"
    return f"{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, now: datetime, alert_id: str | None = None) -> AckGrant:
    """The grant a token carries; TokenRefused says why not (a forged expiry is "altered", not "expired").
    `alert_id`, when given, is the alert the token must be for."""
    if len(token) > MAX_LENGTH or not token.isascii():
        raise TokenRefused("malformed")
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != VERSION:
        raise TokenRefused("malformed")
    _, alert, subscription, kind, expiry, mac = parts
    if not (_ID.fullmatch(alert) and _ID.fullmatch(subscription) and _KIND.fullmatch(kind)
            and _EXPIRY.fullmatch(expiry)):
        raise TokenRefused("malformed")
    # The encoded MACs are compared, not decoded bytes: base64's spare bits could let two spellings pass.
    if not hmac.compare_digest(_mac(key, token.rpartition(".")[0]), mac):
        raise TokenRefused("altered")
    expires_at = datetime.fromtimestamp(int(expiry), timezone.utc)
    if now >= expires_at:
        raise TokenRefused("expired")
    if alert_id is not None and alert_id != alert:
        raise TokenRefused("wrong alert")
    return AckGrant(alert, subscription, kind, expires_at)
