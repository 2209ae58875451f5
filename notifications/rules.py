"""Alert rules (pure): which alerts an appended event raises, with severity and a title free of personal data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from events.catalogue import EVENT_TYPES
from events.projection import CaseState, measures_in_force
from events.records import StoredEvent
from events.reminders import local_and_utc
from events.risk import BODY_NAMES
from events.text import one_line

SEVERITIES = ("info", "warning", "high", "critical")


@dataclass(frozen=True)
class AlertDraft:
    rule: str
    severity: str
    title: str
    event_id: str | None
    dedupe_key: str
    due_at: datetime | None = None
    late: bool = False


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def event_title(event: StoredEvent, zone: str | None = None) -> str:
    """A short, plain description built from non-personal fields only, on one line whatever the stored data holds.

    Times are given in the case's zone first, with UTC beside them."""
    d = event.data
    words = {
        "Detained": lambda: "Detained" + (f" in {d['place']}" if d.get("place") else ""),
        "ExtraditionRequested": lambda: f"Extradition requested by {d['requesting_state']}",
        "ExtraditionOrdered": lambda: "Extradition ordered",
        "RemovalScheduled": lambda: f"Removal to {d['destination']} scheduled for "
                                    f"{_local_minute(d.get('at') or d.get('window_start'), zone)}",
        "Removed": lambda: f"Removed ({d['method']}) to {d['destination']}",
        "InterimMeasureGranted": lambda: f"{BODY_NAMES.get(d['body'], d['body'])} interim measure granted",
        "InterimMeasureLifted": lambda: f"{BODY_NAMES.get(d['body'], d['body'])} interim measure lifted",
        "AsylumDecided": lambda: f"Asylum decision: {d['outcome']}",
        "AppealDecided": lambda: f"Appeal {d['outcome']}",
        "HearingScheduled": lambda: f"{d['kind']} hearing set for {_local_minute(d['at'], zone)}",
        "DetainedOnReturn": lambda: "Detained on return",
        "WhereaboutsUnknown": lambda: "Whereabouts unknown",
        "Resettled": lambda: f"Resettled in {d['country']}",
    }
    make = words.get(event.type)
    return one_line(make() if make else _spaced(event.type))[:300]


def _local_minute(text: str, zone: str | None) -> str:
    """A stored moment (kept with the offset it was given in) as '2030-01-15 02:30 CET (Europe/Paris; 01:30 UTC)',
    or '2030-01-15 01:30 UTC' for a case with no zone."""
    return local_and_utc(datetime.fromisoformat(text.replace("Z", "+00:00")), zone)


@lru_cache(maxsize=None)  # event type names: a closed set
def _spaced(name: str) -> str:
    out = "".join(" " + c.lower() if c.isupper() else c for c in name).strip()
    return out[:1].upper() + out[1:]


def alerts_for(event: StoredEvent, after: CaseState) -> list[AlertDraft]:
    """Alerts raised by one appended event, judged on the case as it stands after the event."""
    kind = EVENT_TYPES.get(event.type)
    if kind is None or kind.system_only or event.type == "EventRetracted":
        return []
    drafts = [AlertDraft(f"event.{event.type}", kind.default_severity, event_title(event, after.timezone),
                         event.event_id,
                         f"event:{event.stream_id}:{event.event_id}")]
    return drafts


# Appended event types that can bring a removal and a measure in force together in the folded state.
BREACHING = frozenset({"RemovalScheduled", "Removed", "InterimMeasureGranted", "EventRetracted"})


def breach_alerts(state: CaseState, now: datetime) -> list[tuple[AlertDraft, str]]:
    """One alert per (removal, interim measure) combination the folded state holds: a removal scheduled while a
    measure is in force now, or carried out while one was. Judged on the state, not on the event just appended,
    so it fires whichever fact came second, late reports and retractions included; the dedupe key (both event
    ids) makes it fire once. Each comes with the removal's event type, which subscriptions filter on."""
    drafts = []
    removal, removed = state.removal, state.removed
    if removal:
        for m in measures_in_force(state, now):
            drafts.append((_breach("Removal scheduled", removal["event_id"], m["body"], m["event_id"]),
                           "RemovalScheduled"))
    if removed:
        # A projection stored before despite_events existed names the bodies only.
        for body, measure in zip(removed["despite"], removed.get("despite_events") or removed["despite"]):
            drafts.append((_breach("Removal carried out", removed["event_id"], body, measure), "Removed"))
    return drafts


def _breach(what: str, removal_event_id: str, body: str, measure: str) -> AlertDraft:
    return AlertDraft("breach.interim_measure", "critical",
                      f"{what} despite {BODY_NAMES.get(body, body)} interim measure", removal_event_id,
                      f"breach:{removal_event_id}:{measure}")
