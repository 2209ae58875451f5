"""Acknowledge-link tokens: what they grant, and every altered, expired or misdirected one refused."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from notifications.ack_tokens import LIFETIME, TokenRefused, issue, verify

KEY = bytes(range(32))
NOW = datetime(2030, 1, 12, 9, 0, tzinfo=timezone.utc)
ALERT = "4f1c2a8e-1b7d-4c55-9a51-0d6c3f2e9b10"
SUB = "9b0e7d4c-3a2f-4e18-8c6d-5f1a2b3c4d5e"
TOKEN = issue(KEY, ALERT, SUB, "email", NOW + LIFETIME)


def refusal(token: str, now: datetime = NOW, key: bytes = KEY, **kw) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify(key, token, now, **kw)
    return caught.value.reason


def test_a_token_grants_its_alert_subscription_and_channel_until_it_expires():
    grant = verify(KEY, TOKEN, NOW)
    assert (grant.alert_id, grant.subscription_id, grant.channel_kind) == (ALERT, SUB, "email")
    assert grant.expires_at == NOW + LIFETIME
    assert verify(KEY, TOKEN, NOW + LIFETIME - timedelta(seconds=1), alert_id=ALERT).alert_id == ALERT
    assert refusal(TOKEN, NOW + LIFETIME) == "expired"


def test_another_key_a_forged_expiry_and_another_alert_are_refused():
    assert refusal(TOKEN, key=bytes(32)) == "altered"
    later = TOKEN.split(".")
    later[4] = str(int(later[4]) + 86400)
    assert refusal(".".join(later)) == "altered"  # a forged expiry is not "expired", it is forged
    assert refusal(TOKEN, alert_id="another-alert") == "wrong alert"
    other = issue(KEY, "another-alert", SUB, "email", NOW + LIFETIME)
    swapped = ".".join(TOKEN.split(".")[:5] + other.split(".")[5:])  # one token's MAC on another's alert
    assert refusal(swapped) == "altered"


@pytest.mark.parametrize("token", ["", "a1", "a1.....", TOKEN + ".x", "b1" + TOKEN[2:], TOKEN.replace(".", "~"),
                                   "a1.é." + TOKEN[5:], "a" * 400])
def test_malformed_tokens_are_refused(token):
    assert refusal(token) in ("malformed", "altered")


@given(st.data())
def test_any_altered_byte_is_refused(data):
    raw = bytearray(TOKEN.encode())
    where = data.draw(st.integers(0, len(raw) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[where]))
    raw[where] = byte
    altered = raw.decode("latin-1")
    assert refusal(altered) in ("malformed", "altered")


@given(st.integers(0, len(TOKEN) - 1))
def test_any_cut_is_refused(length):
    assert refusal(TOKEN[:length]) in ("malformed", "altered")
