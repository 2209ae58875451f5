"""The message every channel renders: an alert (or test) with its case link, free of personal data by default."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.i18n import DEFAULT, day_words, language, local_and_utc, phrase, render, translations
from events.records import iso
from events.text import one_line

HEADINGS = {"raised": phrase("Alert"), "escalated": phrase("Escalated: not acknowledged"),
            "withdrawn": phrase("Withdrawn"), "test": phrase("Test")}
SEVERITY_WORDS = {"info": phrase("info"), "warning": phrase("warning"), "high": phrase("high"),
                  "critical": phrase("critical")}
WEBHOOK_TYPES = {"raised": "alert.raised", "escalated": "alert.escalated", "withdrawn": "alert.withdrawn",
                 "test": "test"}


@dataclass(frozen=True)
class AlertMessage:
    kind: str  # raised / escalated / withdrawn / test
    delivery_id: str
    alert_id: str | None
    rule: str
    severity: str
    title: str
    case_id: str | None
    case_url: str | None
    event_id: str | None
    event_type: str | None
    occurred_at: datetime | None
    due_at: datetime | None
    late: bool
    person_name: str | None = None  # only when the subscription has include_personal_data
    timezone: str | None = None  # the case's zone: times are shown in it first, UTC beside
    date_precision: str = "exact"  # of occurred_at
    language: str = DEFAULT  # the subscription's: every word but the user's own text is in it
    subscription_id: str | None = None  # whom it is for: a chat button names it, to be verified with its secret
    ack_url: str | None = None  # the acknowledge link, made per delivery (bound to its subscription)

    @property
    def occurred_text(self) -> str:
        """When the event happened: local time first with UTC beside, or the date at its precision."""
        if self.occurred_at is None:
            return ""
        if self.date_precision != "exact":
            return day_words(self.occurred_at, self.date_precision, self.language)
        return local_and_utc(self.occurred_at, self.timezone, self.language)

    @property
    def due_text(self) -> str:
        return local_and_utc(self.due_at, self.timezone, self.language) if self.due_at else ""

    def gettext(self, message: str) -> str:
        """One of the channels' own words in the message's language."""
        return translations(language(self.language)).gettext(message)

    @property
    def severity_text(self) -> str:
        return render(SEVERITY_WORDS.get(self.severity, self.severity), self.language)

    def __post_init__(self) -> None:
        # Alerts stored before line breaks were refused at input may still carry them: every channel gets one line.
        object.__setattr__(self, "title", one_line(self.title))
        if self.person_name is not None:
            object.__setattr__(self, "person_name", one_line(self.person_name))

    @property
    def heading(self) -> str:
        return render(HEADINGS[self.kind], self.language)

    def webhook_body(self, now: datetime) -> dict[str, Any]:
        return {"type": WEBHOOK_TYPES[self.kind], "id": self.alert_id or self.delivery_id, "timestamp": iso(now),
                "data": {"alert_id": self.alert_id, "rule": self.rule, "severity": self.severity,
                         "title": self.title, "case_id": self.case_id, "case_url": self.case_url,
                         "event_id": self.event_id, "event_type": self.event_type,
                         "occurred_at": iso(self.occurred_at), "due_at": iso(self.due_at), "late": self.late,
                         "ack_url": self.ack_url,
                         **({"person": {"name": self.person_name}} if self.person_name else {})}}


@dataclass(frozen=True)
class CheckpointMessage:
    """A checkpoint of the whole log for a subscriber who keeps copies (webhooks only): hashes and signatures, never
    case data. `checkpoint` is the signed note with the cosignatures it has when sent; None if the log has no
    checkpoint of that size, which the worker records as a failure rather than sending."""
    delivery_id: str
    tree_size: int
    origin: str | None
    root_hash: str | None  # base64, as in the note
    checkpoint: str | None
    log_key: str | None  # the log's verifier key, to check the note with
    log_url: str  # where the latest checkpoint is served
    kind: str = "checkpoint"

    def webhook_body(self, now: datetime) -> dict[str, Any]:
        return {"type": "log.checkpoint", "id": self.delivery_id, "timestamp": iso(now),
                "data": {"origin": self.origin, "tree_size": self.tree_size, "root_hash": self.root_hash,
                         "checkpoint": self.checkpoint, "log_key": self.log_key, "log_url": self.log_url}}


Message = AlertMessage | CheckpointMessage


def test_message(delivery_id: str, lang: str = DEFAULT) -> AlertMessage:
    return AlertMessage("test", delivery_id, None, "test", "info",
                        render(phrase("Test message from Vigil: this channel works"), lang),
                        None, None, None, None, None, None, False, language=lang)


def sample_message(kind: str = "raised") -> AlertMessage:
    """A made-up alert for previews (no real case, no real person)."""
    from datetime import timezone
    return AlertMessage(kind, "00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001",
                        "event.RemovalScheduled", "critical", "Removal to UZ scheduled for 2030-01-15 06:00 UTC",
                        "00000000-0000-4000-8000-000000000002", "http://127.0.0.1:8000/cases/00000000-0000-4000-8000-000000000002",
                        "00000000-0000-4000-8000-000000000003", "RemovalScheduled",
                        datetime(2030, 1, 12, 9, 0, tzinfo=timezone.utc), None, False,
                        ack_url="http://127.0.0.1:8000/ack/a1.example" if kind in ("raised", "escalated") else None)
