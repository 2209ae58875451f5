"""Subscriptions: who is told what, through which channel; channel secrets sealed under the master key."""
from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator,
                      model_validator)
from sqlalchemy import Engine, insert, select, update

from events.catalogue import EVENT_TYPES, CountryCode, Severity, ShortText, Tag
from events.clock import Clock
from events.transactions import writing
from events.personal_data import PersonalDataCipher
from events.utc import iso

from .channels.base import mask
from .channels.registry import CHANNELS, Channel
from .durations import MAX_ESCALATION, MAX_REMINDER, format_duration, parse_duration
from .tables import subscriptions

DEFAULT_REMINDERS = ["PT72H", "PT24H", "PT2H"]
Language = Literal["en", "ru", "fr", "tr"]  # events/i18n.py LANGUAGES: the complete catalogues
CHANNEL = TypeAdapter(Channel)


def _bounded(maximum: timedelta):
    def check(text: str) -> str:
        if parse_duration(text, maximum) <= timedelta(0):
            raise ValueError("must be longer than zero")
        return text
    return check


def _event_type(name: str) -> str:
    if name not in EVENT_TYPES:
        raise ValueError(f"unknown event type '{name}'")
    return name


ReminderOffset = Annotated[str, Field(max_length=40), AfterValidator(_bounded(MAX_REMINDER))]
EscalationDelay = Annotated[str, Field(max_length=40), AfterValidator(_bounded(MAX_ESCALATION))]


class FilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ids: list[UUID] = Field(default_factory=list, max_length=1000)
    countries: list[CountryCode] = Field(default_factory=list, max_length=300)
    tags: list[Tag] = Field(default_factory=list, max_length=100)
    event_types: list[Annotated[str, AfterValidator(_event_type)]] = Field(default_factory=list, max_length=100)
    min_severity: Severity | None = None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[ShortText, Field(max_length=200)]  # the column's length: PostgreSQL refuses longer, with a 500
    channel: Channel
    filter: FilterIn = Field(default_factory=FilterIn)
    reminders: list[ReminderOffset] = Field(default_factory=lambda: list(DEFAULT_REMINDERS), max_length=10)
    escalate_after: EscalationDelay | None = None
    escalate_to: Channel | None = None
    include_personal_data: bool = False
    language: Language = "en"  # of the messages it receives (the user's own text stays as written)
    log_checkpoints: bool = False  # also receive each signed checkpoint of the log (`log.checkpoint`, webhooks only)

    @field_validator("log_checkpoints")
    @classmethod
    def _checkpoints_by_webhook(cls, wanted: bool, info: ValidationInfo) -> bool:
        channel = info.data.get("channel")  # absent when the channel itself was invalid: that error is reported
        if wanted and channel is not None and channel.kind != "webhook":
            raise ValueError("only a webhook channel can receive the log's checkpoints")
        return wanted

    @model_validator(mode="after")
    def _escalation(self) -> "SubscriptionIn":
        if self.escalate_after and self.escalate_to is None:
            raise ValueError("escalate_to is required when escalate_after is given")
        return self


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def public_channel(channel: dict[str, Any]) -> dict[str, Any]:
    """A channel with its secrets hidden: URLs show only scheme and host, phone numbers masked, tokens never."""
    shown: dict[str, Any] = {"kind": channel["kind"]}
    kind = CHANNELS.get(channel["kind"])
    urls, plain = (kind.url_fields, kind.shown_fields) if kind else ((), ())
    for key, value in channel.items():
        if key in urls:
            parts = urlsplit(value)
            try:
                port = f":{parts.port}" if parts.port else ""
            except ValueError:  # stored before ports were checked: show none rather than fail
                port = ""
            shown[key] = f"{parts.scheme}://{parts.hostname}{port}/…"
        elif key in plain:
            shown[key] = value
        elif kind and key in kind.masked_fields:
            shown[key] = [mask(v) for v in value] if isinstance(value, list) else mask(value)
    return shown


class Subscriptions:
    def __init__(self, engine: Engine, cipher: PersonalDataCipher, clock: Clock):
        self.engine, self.cipher, self.clock = engine, cipher, clock

    def create(self, body: SubscriptionIn, team: str, all_teams: bool, created_by: str) -> dict[str, Any]:
        sub_id, secret = str(uuid.uuid4()), new_secret()
        channel = body.channel.model_dump()
        escalate_to = body.escalate_to.model_dump() if body.escalate_to else None
        values = {
            "id": sub_id, "name": body.name, "team": team, "all_teams": all_teams, "kind": channel["kind"],
            "channel": self.cipher.seal_secret(json.dumps(channel), sub_id),
            "escalate_to": self.cipher.seal_secret(json.dumps(escalate_to), sub_id) if escalate_to else None,
            "secret": self.cipher.seal_secret(secret, sub_id),
            "filter": body.filter.model_dump_json(),
            "reminders": json.dumps(body.reminders),
            "escalate_after_seconds": int(parse_duration(body.escalate_after).total_seconds())
            if body.escalate_after else None,
            "include_personal_data": body.include_personal_data, "language": body.language,
            "log_checkpoints": body.log_checkpoints,
            "created_at": self.clock.now(),
            "created_by": created_by,
        }
        with writing(self.engine) as conn:
            conn.execute(insert(subscriptions).values(**values))
        return {**self.get(sub_id), "secret": secret}

    def get(self, sub_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == sub_id,
                                                           subscriptions.c.deleted_at.is_(None))).first()
        return self._public(row) if row else None

    def list(self, team: str | None) -> list[dict[str, Any]]:
        query = select(subscriptions).where(subscriptions.c.deleted_at.is_(None)).order_by(subscriptions.c.created_at)
        if team is not None:  # a team's own; all-teams subscriptions are the admins'
            query = query.where(subscriptions.c.team == team, subscriptions.c.all_teams.is_(False))
        with self.engine.connect() as conn:
            return [self._public(r) for r in conn.execute(query)]

    def delete(self, sub_id: str) -> bool:
        with writing(self.engine) as conn:
            done = conn.execute(update(subscriptions).where(subscriptions.c.id == sub_id,
                                                            subscriptions.c.deleted_at.is_(None))
                                .values(deleted_at=self.clock.now()))
        return done.rowcount == 1

    def open_channel(self, sub_id: str, sealed_channel: str, sealed_secret: str) -> tuple[Any, str]:
        """A claimed delivery's channel (or escalation channel) and signing secret, opened."""
        channel = CHANNEL.validate_python(json.loads(self.cipher.open_secret(sealed_channel, sub_id)))
        return channel, self.cipher.open_secret(sealed_secret, sub_id)

    def with_channels(self, sub_id: str) -> tuple[dict[str, Any], list[Any]] | None:
        """A live subscription's public view and its channels opened (the channel, then escalate_to if any), for
        checking a callback against the secrets they hold; None if there is no such subscription (or deleted)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == sub_id,
                                                           subscriptions.c.deleted_at.is_(None))).first()
        if row is None:
            return None
        opened = [CHANNEL.validate_python(json.loads(self.cipher.open_secret(sealed, row.id)))
                  for sealed in (row.channel, row.escalate_to) if sealed]
        return self._public(row), opened

    def _public(self, row) -> dict[str, Any]:
        channel = json.loads(self.cipher.open_secret(row.channel, row.id))
        escalate_to = json.loads(self.cipher.open_secret(row.escalate_to, row.id)) if row.escalate_to else None
        return {"id": row.id, "name": row.name, "team": row.team, "all_teams": row.all_teams,
                "channel": public_channel(channel), "filter": json.loads(row.filter),
                "reminders": json.loads(row.reminders),
                "escalate_after": format_duration(timedelta(seconds=row.escalate_after_seconds))
                if row.escalate_after_seconds else None,
                "escalate_to": public_channel(escalate_to) if escalate_to else None,
                "include_personal_data": row.include_personal_data, "language": row.language,
                "log_checkpoints": row.log_checkpoints,
                "created_at": iso(row.created_at),
                "disabled": row.disabled_at is not None, "disabled_reason": row.disabled_reason}
