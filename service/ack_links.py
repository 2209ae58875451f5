"""Acknowledging an alert from the link in one of its messages: the token checked, what it names looked up, and the
acknowledgement recorded with who and how, with its access-log entry (SQL in the alerts repository)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from sqlalchemy import Engine

from events.clock import Clock
from events.i18n import phrase, to_json
from notifications import ack_tokens

from .access import Principal
from .access_log import AccessLog
from .alert_repository import AlertRepository
from .alerts import AlertService

Refusal = Literal["invalid", "expired", "unsubscribed", "acknowledged", "withdrawn"]
STATUS = {"invalid": 404, "expired": 410, "unsubscribed": 410, "acknowledged": 409, "withdrawn": 409}


class LinkRefused(Exception):
    """The link cannot acknowledge anything (nothing was changed); `reason` says why, STATUS its answer."""

    def __init__(self, reason: Refusal, alert: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason, self.alert = reason, alert

    @property
    def status(self) -> int:
        return STATUS[self.reason]


@dataclass(frozen=True)
class LinkTarget:
    grant: ack_tokens.AckGrant
    alert: dict[str, Any]  # the alert's view, as the API gives it
    subscription_name: str
    team: str

    @property
    def principal(self) -> Principal:
        """Who acknowledges: the subscription whose message held the link (as the access log records it)."""
        return Principal(self.grant.subscription_id, self.subscription_name, "subscription", self.team,
                         kind="subscription")


def via_phrase(channel_kind: str, subscription_name: str):
    return phrase("%(channel)s link, subscription '%(name)s'", channel=channel_kind, name=subscription_name)


class AckLinks:
    def __init__(self, engine: Engine, clock: Clock, key: bytes, access_log: AccessLog,
                 repository: AlertRepository | None = None, on_change: Callable[[], None] | None = None):
        self.clock, self.key, self.access_log = clock, key, access_log
        self.on_change = on_change or (lambda: None)  # after an alert was acknowledged (the live pages' feed)
        self.repository = repository or AlertRepository(engine)

    def target(self, token: str) -> LinkTarget:
        """What the link would acknowledge; reads only (a mail scanner opening it changes nothing)."""
        try:
            grant = ack_tokens.verify(self.key, token, self.clock.now())
        except ack_tokens.TokenRefused as exc:
            raise LinkRefused("expired" if exc.reason == "expired" else "invalid") from None
        found = self.repository.link_target(grant.alert_id, grant.subscription_id)
        if found is None or not found[2]:  # signed by us, yet naming nothing that was sent: as good as altered
            raise LinkRefused("invalid")
        row, sub, _ = found
        alert = AlertService.alert_view(row)
        if sub.deleted_at is not None or sub.disabled_at is not None:  # one answer for both: its links are dead
            raise LinkRefused("unsubscribed", alert)
        if alert["state"] != "open":
            raise LinkRefused(alert["state"], alert)
        return LinkTarget(grant, alert, sub.name, sub.team)

    def acknowledge(self, token: str, path: str, client: str | None) -> LinkTarget:
        """Acknowledge the link's alert as its subscription, with the access log's entry, in one transaction."""
        found = self.target(token)
        who = found.principal
        via = to_json(via_phrase(found.grant.channel_kind, found.subscription_name))

        def log(conn) -> None:
            self.access_log.record_in(conn, who, "acknowledge", found.alert["case_id"], path, client)

        if not self.repository.acknowledge_open(found.grant.alert_id, found.grant.subscription_id, self.clock.now(),
                                                who.actor, via, log):
            self.target(token)  # acknowledged, withdrawn, or its subscription deleted or disabled since: raises which
            raise LinkRefused("acknowledged")
        self.on_change()
        return LinkTarget(found.grant, {**found.alert, "state": "acknowledged"}, found.subscription_name,
                          found.team)
