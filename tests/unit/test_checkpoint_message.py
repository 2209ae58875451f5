"""The log.checkpoint message: its webhook body carries the checkpoint and nothing of a case; the worker refuses to
send one through a channel that is not a webhook, or one whose checkpoint the log does not have."""
from __future__ import annotations

from datetime import datetime, timezone

from notifications.message import CheckpointMessage, sample_message
from notifications.worker import unsendable

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
NOTE = "vigil.example.org/log\n5\n" + "A" * 43 + "=\n\n— vigil.example.org/log AAAA\n"


def message(checkpoint: str | None = NOTE) -> CheckpointMessage:
    return CheckpointMessage("d-1", 5, "vigil.example.org/log", "A" * 43 + "=", checkpoint, "vigil+0000+AA",
                             "https://vigil.example.org/v1/log/checkpoint")


def test_the_webhook_body_is_the_checkpoint_and_its_delivery_id():
    assert message().webhook_body(NOW) == {
        "type": "log.checkpoint", "id": "d-1", "timestamp": "2026-03-01T12:00:00.000000Z",
        "data": {"origin": "vigil.example.org/log", "tree_size": 5, "root_hash": "A" * 43 + "=", "checkpoint": NOTE,
                 "log_key": "vigil+0000+AA", "log_url": "https://vigil.example.org/v1/log/checkpoint"}}


def test_only_a_webhook_sends_a_checkpoint_and_only_one_the_log_has():
    assert unsendable(message(), "webhook") is None
    assert unsendable(message(), "email") == "log.checkpoint is sent to webhook channels only"
    assert unsendable(message(), "slack") == "log.checkpoint is sent to webhook channels only"
    assert unsendable(message(None), "webhook") == "the log has no checkpoint of size 5"
    assert unsendable(sample_message(), "email") is None  # alerts go anywhere
