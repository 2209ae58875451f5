"""Reminder rows: planned in the append's transaction, fired by the scheduler tick through the outbox."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Callable, Sequence

from sqlalchemy import Connection, Engine, insert, select, update

from events.case_projections import CaseProjections, Folded
from events.clock import Clock
from events.transactions import writing
from events.fastsql import Raw
from events.projection import CaseState
from events.records import StoredEvent
from events.i18n import render
from events.reminders import (
    AFFECTING, OUTCOME, Due, contact_checks_end, decide, next_contact_check, outcome_severity, plan, repeats,
    title_phrase,
)
from events.store import AppendContext
from events.timing import Timing
from events.utc import from_db

from .durations import MAX_REMINDER, parse_duration
from .outbox import active_audiences, notify, raise_alert
from .tables import reminders
from .rules import AlertDraft
from .subscriptions import DEFAULT_REMINDERS

log = logging.getLogger("vigil.reminders")
DEFAULT_OFFSETS = [parse_duration(d) for d in DEFAULT_REMINDERS]
INSERT_REMINDER = (
    "INSERT INTO reminders (id, case_id, kind, item_event_id, item_type, item_at, offset_seconds, due_at, is_last, "
    "state, late) VALUES (:id, :case_id, :kind, :item_event_id, :item_type, :item_at, :offset_seconds, :due_at, "
    ":is_last, 'pending', :late)")


def _offset_seconds(subscription_id: str, text: str) -> int | None:
    """A stored offset in seconds; one outside today's bounds (stored before they existed) is ignored, loudly."""
    try:
        return int(parse_duration(text, MAX_REMINDER).total_seconds())
    except ValueError:
        log.warning("subscription %s: reminder offset %r ignored: %s", subscription_id, text[:40],
                    "outside the allowed range")
        return None


def _active_subscriptions(raw: Raw) -> list:
    return raw.all("SELECT id, reminders, team, all_teams FROM subscriptions "
                   "WHERE deleted_at IS NULL AND disabled_at IS NULL")


@lru_cache(maxsize=4096)
def _parsed_offsets(subscription_id: str, stored: str) -> frozenset[int]:
    """Parsed once per stored text: every dated append reads every subscription's offsets."""
    return frozenset(s for s in (_offset_seconds(subscription_id, o) for o in json.loads(stored)) if s is not None)


def subscription_offsets(raw: Raw, rows: list | None = None) -> dict[str, frozenset[int]]:
    """Each active subscription's reminder offsets, in seconds."""
    rows = _active_subscriptions(raw) if rows is None else rows
    return {r[0]: _parsed_offsets(r[0], r[1]) for r in rows}


def reconcile(raw: Raw, case_id: str, state: CaseState, offsets: Sequence[timedelta], now: datetime,
              timing: Timing | timedelta, quiet: bool = False, just_known: frozenset[str] = frozenset()) -> None:
    """Make the case's pending reminders match its dates: moved or cancelled dates drop theirs, new ones get theirs.

    A reminder whose moment passed before its date was known is not created. A contact check whose first moment
    has passed is, while its repeats last (`timing.contact_repeat_for`): due now or, when the removal is among the
    events just appended (`just_known`: that append alerted already), at its next daily moment. The outcome watch
    of a date that passed within the history horizon is (an older one is history, not a page). In a quiet (bulk)
    load only reminders still ahead are created."""
    timing = Timing.of(timing)
    planned = {p.key: p for p in plan(state, offsets, timing)}
    pending = raw.all("SELECT id, kind, item_event_id, item_at, offset_seconds FROM reminders "
                      "WHERE case_id = :c AND state = 'pending'", {"c": case_id})
    existing = {(r[1], r[2], from_db(r[3]), r[4]): r[0] for r in pending}
    for key, reminder_id in existing.items():
        if key not in planned:
            raw.run("UPDATE reminders SET state = 'cancelled', note = :n, fired_at = :t WHERE id = :i",
                    {"n": "the date moved, or the case no longer needs it", "t": raw.time(now), "i": reminder_id})
    rows = []
    for key, p in planned.items():
        due = p.due_at
        if key in existing:
            continue
        if p.kind == OUTCOME and now - p.item_at >= timing.history_horizon:
            continue
        if due <= now:
            if quiet or p.kind not in ("contact_overdue", OUTCOME):
                continue
            if p.kind == "contact_overdue":
                end = contact_checks_end(p.item_at, timing.contact_overdue_after, timing.contact_repeat_for)
                if now > end:
                    continue
                if p.item_event_id in just_known:
                    due = next_contact_check(due, now, end)
                    if due is None:
                        continue
        rows.append({"id": str(uuid.uuid4()), "case_id": case_id, "kind": p.kind, "item_event_id": p.item_event_id,
                     "item_type": p.source_type, "item_at": raw.time(p.item_at),
                     "offset_seconds": int(p.offset.total_seconds()), "due_at": raw.time(due), "is_last": p.is_last,
                     "late": False})
    if rows:
        raw.many(INSERT_REMINDER, rows)


def offsets_for(rows: list, offsets: dict[str, set[int]], teams: Sequence[str]) -> list[timedelta]:
    """The offsets a case needs: the defaults and those of subscriptions that may hear of it (its teams' and
    all-teams ones), so one team's settings never shape another team's reminders."""
    seconds = set().union(*(offsets[r[0]] for r in rows if r[3] or r[2] in teams))
    return sorted({timedelta(seconds=s) for s in seconds} | set(DEFAULT_OFFSETS), reverse=True)


def offsets_in_use(raw: Raw, teams: Sequence[str]) -> list[timedelta]:
    rows = _active_subscriptions(raw)
    return offsets_for(rows, subscription_offsets(raw, rows), teams)


class ReminderPlanner:
    """Append hook: recompute the case's reminders when an event touches its dates."""

    def __init__(self, clock: Clock, timing: Timing | timedelta):
        self.clock, self.timing = clock, Timing.of(timing)

    def __call__(self, conn: Connection, stream_id: str, appended: Sequence[StoredEvent], folded: Folded,
                 context: AppendContext) -> None:
        if not any(e.type in AFFECTING for e in appended):
            return
        state = folded.after
        raw = context.raw
        # Planning must never cost the event: if it fails, its own writes are undone and the append goes on.
        raw.run("SAVEPOINT plan_reminders")
        try:
            reconcile(raw, stream_id, state, offsets_in_use(raw, state.teams), self.clock.now(), self.timing,
                      context.quiet, frozenset(e.event_id for e in appended))
        except Exception:
            raw.run("ROLLBACK TO SAVEPOINT plan_reminders")
            log.exception("case %s: planning its reminders failed; the event is kept", stream_id)
        raw.run("RELEASE SAVEPOINT plan_reminders")

    def replan_all(self, engine: Engine) -> int:
        """After subscriptions change, the offsets in use may have too: plan every case again."""
        with writing(engine) as conn:
            raw = Raw(conn)
            subscriptions = _active_subscriptions(raw)
            offsets = subscription_offsets(raw, subscriptions)
            rows = list(CaseProjections.all(conn))
            for row in rows:
                reconcile(raw, row.case_id, row.state, offsets_for(subscriptions, offsets, row.state.teams),
                          self.clock.now(), self.timing)
        return len(rows)


class Ticker:
    """The scheduler's job: fire due reminders and contact checks, queue due escalations. Any number may run."""

    def __init__(self, engine: Engine, clock: Clock, tick_seconds: float, escalate, wake,
                 place_cases: Callable[[datetime], int] = lambda now: 0,
                 on_reminders: Callable[[dict[str, int]], None] | None = None,
                 contact_overdue_after: timedelta = timedelta(days=2), contact_repeat_for: timedelta = timedelta(days=30)):
        self.engine, self.clock, self.escalate, self.wake = engine, clock, escalate, wake
        self.contact_overdue_after, self.contact_repeat_for = contact_overdue_after, contact_repeat_for
        self.on_reminders = on_reminders  # told how many fired / late / skipped once they are committed (metrics)
        self.place_cases = place_cases  # stores the case list's order where it has lapsed (events.case_list)
        self.grace = timedelta(seconds=max(60.0, 2 * tick_seconds))
        self._postgres = engine.dialect.name == "postgresql"

    def tick(self) -> dict[str, int]:
        now = self.clock.now()
        fired = self.fire_due(now)
        escalated = self.escalate(now)
        if fired or escalated:
            self.wake()
        return {"fired": fired, "escalated": escalated, "placed": self.place_cases(now)}

    def fire_due(self, now: datetime, limit: int = 500) -> int:
        due = (select(reminders).where(reminders.c.state == "pending", reminders.c.due_at <= now)
               .order_by(reminders.c.due_at))
        with self.engine.connect() as conn:  # cheap look first: most ticks find nothing due
            if conn.execute(due.with_only_columns(reminders.c.id).limit(1)).first() is None:
                return 0
        with writing(self.engine) as conn:
            rows = conn.execute(due.limit(limit).with_for_update(skip_locked=True) if self._postgres
                                else due.limit(limit)).all()
            by_id = {r.id: r for r in rows}
            decisions = decide([Due(r.id, r.kind, r.item_event_id, r.item_at, r.due_at) for r in rows], now,
                               self.grace)
            raw = Raw(conn)  # raise_alert is the append path's, on its fast statements
            audiences = offsets = None
            states: dict[str, CaseState] = {}
            fired = 0
            outcomes = {"fired": 0, "late": 0, "skipped": 0}  # fired: on time; late: fired past its moment's grace
            for decision in decisions:
                r = by_id[decision.id]
                if decision.action == "skip":
                    conn.execute(update(reminders).where(reminders.c.id == r.id)
                                 .values(state="skipped", note=decision.note, fired_at=now))
                    outcomes["skipped"] += 1
                    continue
                if audiences is None:
                    audiences, offsets = active_audiences(raw), subscription_offsets(raw)
                if r.case_id not in states:
                    states[r.case_id] = CaseProjections.get(conn, r.case_id).state
                state = states[r.case_id]
                contact, outcome = r.kind == "contact_overdue", r.kind == OUTCOME
                rule = "contact.overdue" if contact else "outcome.overdue" if outcome else f"reminder.{r.kind}"
                severity = outcome_severity(r.item_type) if outcome else "critical" if contact or r.is_last else "high"
                words = title_phrase(r.kind, None, r.item_at, now, state.timezone, r.item_type)
                draft = AlertDraft(rule, severity, render(words), r.item_event_id, f"reminder:{r.id}",
                                   None if contact else r.item_at, decision.late, phrase=words)
                # Watches of what has passed reach every subscription that matches; reminders those with the offset.
                only = None if contact or outcome else {s for s, o in offsets.items() if r.offset_seconds in o}
                raise_alert(raw, r.case_id, state, draft, r.item_type, audiences, now, only)
                conn.execute(update(reminders).where(reminders.c.id == r.id)
                             .values(state="sent", fired_at=now, late=decision.late))
                if contact:  # again every day until contact is established, for a bounded time
                    following = next_contact_check(r.due_at, now, contact_checks_end(
                        r.item_at, self.contact_overdue_after, self.contact_repeat_for))
                elif repeats(r.kind, r.item_type):  # a passed removal's outcome: again every day until one is recorded
                    following = next_contact_check(r.due_at, now)
                else:
                    following = None
                if following is not None:
                    conn.execute(insert(reminders).values(
                        id=str(uuid.uuid4()), case_id=r.case_id, kind=r.kind, item_event_id=r.item_event_id,
                        item_type=r.item_type, item_at=r.item_at, offset_seconds=0, due_at=following, is_last=True,
                        state="pending", late=False))
                fired += 1
                outcomes["late" if decision.late else "fired"] += 1
            if fired:
                notify(conn)
        if self.on_reminders is not None:
            self.on_reminders(outcomes)
        return fired
