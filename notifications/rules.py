"""Alert rules (pure): which alerts an appended event raises, with severity and a title free of personal data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from events.catalogue import EVENT_TYPES
from events.projection import CaseState, measures_in_force
from events.records import StoredEvent
from events.event_names import event_type_name
from events.i18n import Moment, Phrase, phrase, render
from events.risk import body_name, method_word
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
    # The title as a phrase, for subscribers reading another language; the English title is what compares.
    phrase: Phrase | None = field(default=None, compare=False)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def event_title(event: StoredEvent, zone: str | None = None) -> str:
    """A short, plain description built from non-personal fields only, on one line whatever the stored data holds.

    Times are given in the case's zone first, with UTC beside them."""
    return one_line(render(event_phrase(event, zone)))[:300]


OUTCOMES = {"granted": phrase("granted"), "refused": phrase("refused"), "inadmissible": phrase("inadmissible")}
APPEALS = {"allowed": phrase("Appeal allowed"), "dismissed": phrase("Appeal dismissed")}


def event_phrase(event: StoredEvent, zone: str | None = None) -> Phrase:
    """The title of `event_title`, kept as a phrase so each subscription reads it in its own language."""
    d = event.data
    words = {
        "Detained": lambda: phrase("Detained in %(place)s", place=d["place"]) if d.get("place")
        else phrase("Detained"),
        "ExtraditionRequested": lambda: phrase("Extradition requested by %(country)s",
                                               country=d["requesting_state"]),
        "ExtraditionOrdered": lambda: phrase("Extradition ordered"),
        "RemovalScheduled": lambda: phrase("Removal to %(country)s scheduled for %(when)s", country=d["destination"],
                                           when=_moment(d.get("at") or d.get("window_start"), zone)),
        "Removed": lambda: phrase("Removed (%(method)s) to %(country)s", method=method_word(d["method"]),
                                  country=d["destination"]),
        "InterimMeasureGranted": lambda: phrase("%(body)s interim measure granted", body=body_name(d["body"])),
        "InterimMeasureLifted": lambda: phrase("%(body)s interim measure lifted", body=body_name(d["body"])),
        "AsylumDecided": lambda: phrase("Asylum decision: %(outcome)s",
                                        outcome=OUTCOMES.get(d["outcome"], d["outcome"])),
        "AppealDecided": lambda: APPEALS.get(d["outcome"]) or phrase("Appeal %(outcome)s", outcome=d["outcome"]),
        "HearingScheduled": lambda: phrase("%(kind)s hearing set for %(when)s", kind=d["kind"],
                                           when=_moment(d["at"], zone)),
        "DetainedOnReturn": lambda: phrase("Detained on return"),
        "WhereaboutsUnknown": lambda: phrase("Whereabouts unknown"),
        "Resettled": lambda: phrase("Resettled in %(country)s", country=d["country"]),
    }
    make = words.get(event.type)
    return make() if make else event_type_name(event.type)


def _moment(text: str, zone: str | None) -> Moment:
    """A stored moment (kept with the offset it was given in), shown as '2030-01-15 02:30 CET (Europe/Paris;
    01:30 UTC)', or '2030-01-15 01:30 UTC' for a case with no zone."""
    return Moment(datetime.fromisoformat(text.replace("Z", "+00:00")), zone)


def alerts_for(event: StoredEvent, after: CaseState) -> list[AlertDraft]:
    """Alerts raised by one appended event, judged on the case as it stands after the event."""
    kind = EVENT_TYPES.get(event.type)
    if kind is None or kind.system_only or event.type == "EventRetracted":
        return []
    title = event_phrase(event, after.timezone)
    drafts = [AlertDraft(f"event.{event.type}", kind.default_severity, one_line(render(title))[:300],
                         event.event_id, f"event:{event.stream_id}:{event.event_id}", phrase=title)]
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
            drafts.append((_breach(False, removal["event_id"], m["body"], m["event_id"]),
                           "RemovalScheduled"))
    if removed:
        # A projection stored before despite_events existed names the bodies only.
        for body, measure in zip(removed["despite"], removed.get("despite_events") or removed["despite"]):
            drafts.append((_breach(True, removed["event_id"], body, measure), "Removed"))
    return drafts


def _breach(carried_out: bool, removal_event_id: str, body: str, measure: str) -> AlertDraft:
    title = phrase("Removal carried out despite %(body)s interim measure", body=body_name(body)) if carried_out \
        else phrase("Removal scheduled despite %(body)s interim measure", body=body_name(body))
    return AlertDraft("breach.interim_measure", "critical", render(title), removal_event_id,
                      f"breach:{removal_event_id}:{measure}", phrase=title)
