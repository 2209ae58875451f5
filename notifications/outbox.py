"""The transactional outbox: alerts and their deliveries are written in the transaction of the event that raised them."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, NamedTuple, Sequence, Union

from sqlalchemy import Connection, text

from events.case_projections import Folded
from events.clock import Clock
from events.fastsql import Raw
from events.i18n import to_json
from events.projection import CaseState
from events.records import StoredEvent
from events.store import AppendContext
from events.timing import Timing

from .delivery_store import Claimed
from .history import is_history, risk_raised
from .matching import Audience, matches, parse_filter
from .rules import BREACHING, AlertDraft, alerts_for, breach_alerts, severity_rank

NOTIFY_CHANNEL = "vigil_outbox"
ALWAYS_RAISED = "high"  # alerts this severe reach the inbox even when no subscription matches


class Subscriber(NamedTuple):
    """An active subscription: whom it speaks for, and what its worker needs to send to it (sealed, as stored)."""
    id: str
    audience: Audience
    sealed_channel: str
    sealed_escalate_to: str | None
    sealed_secret: str | None
    include_personal_data: bool
    language: str


def active_audiences(raw: Raw) -> list[Subscriber]:
    rows = raw.all("SELECT id, team, all_teams, filter, channel, escalate_to, secret, include_personal_data, language "
                   "FROM subscriptions WHERE deleted_at IS NULL AND disabled_at IS NULL")
    return [Subscriber(r[0], Audience(r[1], bool(r[2]), parse_filter(r[3])), r[4], r[5], r[6], bool(r[7]), r[8])
            for r in rows]


INSERT_ALERT = (
    "INSERT INTO alerts (id, rule, severity, state, case_id, event_id, title, title_phrase, raised_at, due_at, late, "
    "dedupe_key) VALUES (:id, :rule, :severity, 'open', :case_id, :event_id, :title, :title_phrase, :raised_at, "
    ":due_at, :late, :dedupe_key) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
INSERT_DELIVERY = (
    "INSERT INTO deliveries (id, alert_id, subscription_id, kind, target, state, attempts, created_at, "
    "next_attempt_at, lease_until, leased_by) VALUES (:id, :alert_id, :subscription_id, 'raised', 'channel', "
    "'pending', 0, :now, :now, :lease_until, :leased_by)")


@dataclass(frozen=True)
class HandOff:
    """Deliveries written already leased to the worker of this process, which sends them as soon as the append is
    durable, without claiming them in a transaction of its own. Should the process die first, the lease's worker
    stops beating and any worker takes them over."""
    worker_id: str
    lease_until: datetime
    # After the commit: the deliveries (each ready to send, or the id of one to read), the case zones.
    take: Callable[[list["Handed"], datetime, dict], None]


Handed = Union[Claimed, str]  # a handed-off delivery with all it needs to be sent, or its id when that must be read


def handed_claims(alert_id: str, case_id: str, draft: AlertDraft, event: StoredEvent, now: datetime,
                  lease_until: datetime, rows: Sequence[dict], targets: Sequence[Subscriber]) -> list[Claimed]:
    """The deliveries just written, as the worker would read them back: the append knows all of it already."""
    alert = {"rule": draft.rule, "severity": draft.severity, "title": draft.title,
             "title_phrase": to_json(draft.phrase) if draft.phrase is not None else None, "case_id": case_id,
             "event_id": draft.event_id, "due_at": draft.due_at, "late": draft.late, "event_type": event.type,
             "occurred_at": event.occurred_at, "raised_at": now, "date_precision": event.date_precision or "exact"}
    return [Claimed(row["id"], alert_id, sub.id, "raised", "channel", 0, None, lease_until, True, sub.sealed_channel,
                    sub.sealed_escalate_to, sub.sealed_secret, sub.include_personal_data, alert, sub.language)
            for row, sub in zip(rows, targets)]


def raise_alert(raw: Raw, case_id: str, case: CaseState, draft: AlertDraft, event_type: str | None,
                audiences: Sequence[Subscriber], now: datetime,
                only: set[str] | None = None, handoff: HandOff | None = None,
                handed: list[Handed] | None = None, appended: Mapping[str, StoredEvent] | None = None) -> int:
    """Insert the alert (once per dedupe key) and a pending delivery per matching subscription; with a hand-off,
    add the deliveries to `handed` (whole when the alert's event is among the `appended` ones, else by id)."""
    targets = [sub for sub in audiences if (only is None or sub.id in only)
               and matches(sub.audience, case_id, case, draft.severity, event_type)]
    if not targets and severity_rank(draft.severity) < severity_rank(ALWAYS_RAISED):
        return 0  # minor news nobody subscribed to stays out of the inbox
    alert_id = str(uuid.uuid4())
    inserted = raw.one(INSERT_ALERT, {
        "id": alert_id, "rule": draft.rule, "severity": draft.severity, "case_id": case_id,
        "event_id": draft.event_id, "title": draft.title,
        "title_phrase": to_json(draft.phrase) if draft.phrase is not None else None, "raised_at": raw.time(now), "due_at": raw.time(draft.due_at),
        "late": draft.late, "dedupe_key": draft.dedupe_key})
    if inserted is None:  # raised before (same dedupe key)
        return 0
    when = raw.time(now)
    lease_until, leased_by = ((raw.time(handoff.lease_until), handoff.worker_id) if handoff is not None
                              else (None, None))
    rows = [{"id": str(uuid.uuid4()), "alert_id": alert_id, "subscription_id": sub.id, "now": when,
             "lease_until": lease_until, "leased_by": leased_by} for sub in targets]
    if rows:
        raw.many(INSERT_DELIVERY, rows)
        if handoff is not None and handed is not None:
            event = appended.get(draft.event_id) if appended and draft.event_id else None
            if event is None:
                handed.extend(r["id"] for r in rows)
            else:
                handed.extend(handed_claims(alert_id, case_id, draft, event, now, handoff.lease_until, rows, targets))
    return len(rows)


OPEN_ALERTS_OF_EVENT = (
    "SELECT id FROM alerts WHERE case_id = :case_id AND state <> 'withdrawn' AND (event_id = :event_id "
    # A breach alert names the removal as its event; the measure is the last part of its dedupe key.
    "OR (rule = 'breach.interim_measure' AND dedupe_key LIKE :measure ESCAPE '!'))")
INSERT_WITHDRAWN = (
    "INSERT INTO deliveries (id, alert_id, subscription_id, kind, target, state, attempts, created_at, "
    "next_attempt_at) SELECT :id, alert_id, subscription_id, 'withdrawn', 'channel', 'pending', 0, :now, :now "
    "FROM deliveries WHERE alert_id = :alert_id AND subscription_id = :subscription_id AND kind = 'raised' "
    "ON CONFLICT (alert_id, subscription_id, kind) DO NOTHING")


def withdraw(raw: Raw, event_id: str, now: datetime, case_id: str) -> int:
    """Withdraw the alerts an event of this case raised, and tell everyone who was told of them."""
    measure = "%:" + event_id.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    open_alerts = [r[0] for r in raw.all(OPEN_ALERTS_OF_EVENT,
                                         {"case_id": case_id, "event_id": event_id, "measure": measure})]
    if not open_alerts:
        return 0
    when = raw.time(now)
    raw.many("UPDATE alerts SET state = 'withdrawn', withdrawn_at = :now WHERE id = :id",
             [{"now": when, "id": alert_id} for alert_id in open_alerts])
    told = [r for alert_id in open_alerts for r in raw.all(
        "SELECT alert_id, subscription_id FROM deliveries WHERE alert_id = :a AND kind = 'raised'", {"a": alert_id})]
    if told:
        raw.many(INSERT_WITHDRAWN, [{"id": str(uuid.uuid4()), "now": when, "alert_id": alert_id,
                                     "subscription_id": subscription_id} for alert_id, subscription_id in told])
    return len(told)


def notify(conn: Connection) -> None:
    """Wake delivery workers in other processes (PostgreSQL delivers it at commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})


class Outbox:
    """Append hook: turn appended events into alerts and deliveries, in the same transaction.

    An event that happened before the history horizon raises no alert of its own; if the append raised the case's
    risk, one `risk.raised` alert says so instead."""

    def __init__(self, clock: Clock, timing: Timing | timedelta = Timing(),
                 history_horizon: timedelta | None = None):
        self.clock, self.timing = clock, Timing.of(timing)
        self.history_horizon = history_horizon if history_horizon is not None else self.timing.history_horizon
        # Set by the composition root when this process runs a worker: asked per alert, None when it cannot take.
        self.handoff: Callable[[datetime], HandOff | None] | None = None
        self.wake: Callable[[], None] | None = None  # told after a commit that left deliveries for a claim

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent], folded: Folded,
                 context: AppendContext) -> None:
        if context.quiet:
            return
        state = folded.after
        now = self.clock.now()
        drafts: list[tuple[AlertDraft, str | None]] = []
        history: list[StoredEvent] = []
        created = 0
        for event in appended:
            if event.type == "EventRetracted":
                created += withdraw(context.raw, str(event.data["event_id"]), now, stream_id)
                continue
            old = is_history(event, now, self.history_horizon)
            if old:
                history.append(event)
            drafts += [(d, event.type) for d in alerts_for(event, state) if not (old and d.rule.startswith("event."))]
        if history:
            raised = risk_raised(folded.before, state, now, self.timing, history[-1].event_id)
            if raised is not None:
                drafts.append((raised, history[-1].type))
        if any(e.type in BREACHING for e in appended):
            # Judged on the folded state whenever the facts were reported; raised ones stop at their dedupe key.
            drafts += breach_alerts(state, now)
        if drafts:
            audiences = active_audiences(context.raw)
            handoff = self.handoff(now) if self.handoff is not None else None
            handed: list[Handed] = []
            by_id = {e.event_id: e for e in appended} if handoff is not None else None
            for draft, event_type in drafts:
                created += raise_alert(context.raw, stream_id, state, draft, event_type, audiences, now,
                                       handoff=handoff, handed=handed, appended=by_id)
            if handed:
                zones = {stream_id: state.timezone}
                context.after_commit.append(lambda: handoff.take(handed, handoff.lease_until, zones))
            created -= len(handed)
        if created:
            notify(conn)
            if self.wake is not None:
                context.after_commit.append(self.wake)
