"""Events told in words for people outside Vigil (a court, a lawyer): one sentence per event type; pure."""
from __future__ import annotations

from typing import Any, Callable

from events.timewords import calendar_date

from .web.display import as_datetime, datum, humanize, is_empty, zone

MEASURE_BODIES = {"ECtHR": "the European Court of Human Rights", "UN_CAT": "the UN Committee against Torture",
                  "UN_HRC": "the UN Human Rights Committee", "other": "an international body"}
REMOVAL_METHODS = {"extradited": "Extradited", "deported": "Deported", "rendered": "Rendered",
                   "other": "Removed"}
HEARING_OUTCOMES = {"decided": "a decision was given", "reserved": "the decision was reserved",
                    "adjourned": "it was adjourned", "other": "outcome recorded as other"}


def moment_words(value: Any, tz: str | None) -> str:
    """An exact moment: '14 Dec 2023, 10:30 CET (09:30 UTC)' in the case's zone, or '14 Dec 2023, 09:30 UTC'.
    The UTC part repeats the date only when it is another day there."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    utc = moment.astimezone(zone("UTC"))
    utc_day = calendar_date(utc, "day")
    if not tz or zone(tz).key == "UTC":
        return f"{utc_day}, {utc:%H:%M} UTC"
    local = moment.astimezone(zone(tz))
    local_day = calendar_date(local.replace(tzinfo=None), "day")  # naive: calendar_date reads it as it stands
    utc_words = f"{utc:%H:%M} UTC" if utc_day == local_day else f"{utc_day}, {utc:%H:%M} UTC"
    return f"{local_day}, {local:%H:%M} {local.tzname()} ({utc_words})"


def when_words(value: Any, precision: str, tz: str | None) -> str:
    """When an event happened, as precisely as it is known: 'December 2023', '14 Dec 2023', or an exact moment."""
    if precision in ("day", "month", "year"):
        moment = as_datetime(value)
        return calendar_date(moment, precision) if moment else ""
    return moment_words(value, tz)


def _with(text: str, joiner: str, value: Any) -> str:
    return f"{text}{joiner}{value}" if not is_empty(value) else text


def _listed(values: list[Any] | None) -> str:
    return ", ".join(str(v) for v in values or [] if not is_empty(v))


class EventWords:
    """Sentences for one case: moments in its zone, references to its other events by what they were."""

    def __init__(self, tz: str | None, name_of: Callable[[Any], str]):
        self.tz = tz
        self.name_of = name_of  # an event id -> 'Hearing scheduled on 3 Mar 2024'

    def moment(self, value: Any) -> str:
        return moment_words(value, self.tz)

    def person(self, person: Any) -> str:
        if not isinstance(person, dict) or person.get("erased"):
            return "personal data erased"
        if person.get("redacted"):
            return "personal data not shown"
        parts = [person.get("name"), f"also known as {_listed(person['aliases'])}" if person.get("aliases") else None,
                 f"born {person['birth_year']}" if person.get("birth_year") else None,
                 f"nationality {person['nationality']}" if person.get("nationality") else None]
        return ", ".join(p for p in parts if p)

    def sentence(self, type_name: str, data: dict[str, Any]) -> str:
        """The event as one sentence; its free text (DETAIL_FIELDS) is shown apart, as written."""
        told = SENTENCES.get(type_name)
        if told is None:  # a type outside the catalogue: its name and its data, still in words
            fields = "; ".join(f"{humanize(k)}: {datum(v, self.tz)}" for k, v in data.items()
                               if not is_empty(v) and k != "note")
            return _with(humanize(type_name), ": ", fields)
        return told(self, data)


def _removal_scheduled(w: EventWords, d: dict[str, Any]) -> str:
    when = (f"for {w.moment(d['at'])}" if d.get("at") else
            f"for between {w.moment(d.get('window_start'))} and {w.moment(d.get('window_end'))}")
    return _with(f"Removal to {d.get('destination')} scheduled {when}", ", route: ", d.get("route"))


def _hearing_postponed(w: EventWords, d: dict[str, Any]) -> str:
    text = f"Hearing postponed ({w.name_of(d.get('hearing_event_id'))})"
    return _with(text, ", now set for ", w.moment(d.get("new_at")) if d.get("new_at") else None)


def _asylum_decided(w: EventWords, d: dict[str, Any]) -> str:
    outcome = {"inadmissible": "declared inadmissible"}.get(d.get("outcome"), d.get("outcome"))
    return _with(f"Asylum claim {outcome}", " by ", d.get("authority"))


def _source(w: EventWords, d: dict[str, Any]) -> str:
    text = _with(f"Source attached: {d.get('title')}", " (document: ", d.get("document"))
    text += ")" if d.get("document") else ""
    text = _with(text, ", at ", d.get("url"))
    return _with(text, ", SHA-256 ", d.get("sha256"))


def _opened(w: EventWords, d: dict[str, Any]) -> str:
    text = f"Case opened for {w.person(d.get('person'))}, in {d.get('country')}"
    text = _with(text, ", at risk of return to ", d.get("origin_country"))
    text = _with(text, "; tags: ", _listed(d.get("tags")))
    text = _with(text, "; teams: ", _listed(d.get("teams")))
    return _with(text, "; time zone ", d.get("timezone"))


SENTENCES: dict[str, Callable[[EventWords, dict[str, Any]], str]] = {
    "CaseOpened": _opened,
    "PersonDetailsUpdated": lambda w, d: f"Personal details updated: {w.person(d.get('person'))}",
    "NoteAdded": lambda w, d: "Note added",
    "SourceAttached": _source,
    "EventRetracted": lambda w, d: f"Retraction of an earlier entry ({w.name_of(d.get('event_id'))})",
    "CaseClosed": lambda w, d: "Case closed",
    "CaseReopened": lambda w, d: "Case reopened",
    "PersonalDataErased": lambda w, d: _with("Personal data erased", " by ", d.get("erased_by")),
    "Detained": lambda w, d: _with(_with("Detained", " at ", d.get("place")), " by ", d.get("authority")),
    "TransferredToFacility": lambda w, d: f"Transferred to {d.get('place')}",
    "Released": lambda w, d: _with("Released", ", conditions: ", d.get("conditions")),
    "ExtraditionRequested": lambda w, d: _with(f"Extradition requested by {d.get('requesting_state')}",
                                               ", charges: ", _listed(d.get("charges"))),
    "DiplomaticAssurancesOffered": lambda w, d: _with("Diplomatic assurances offered", " by ", d.get("by_state")),
    "ExtraditionOrdered": lambda w, d: _with("Extradition ordered", " by ", d.get("authority")),
    "ExtraditionRefused": lambda w, d: _with("Extradition refused", " by ", d.get("authority")),
    "AsylumClaimLodged": lambda w, d: _with("Asylum claim lodged", " with ", d.get("authority")),
    "AsylumDecided": _asylum_decided,
    "ProtectionRevoked": lambda w, d: _with("Protection revoked", " by ", d.get("authority")),
    "HearingScheduled": lambda w, d: (f"Hearing ({d.get('kind')}) scheduled before {d.get('court')} "
                                      f"for {w.moment(d.get('at'))}"),
    "HearingPostponed": _hearing_postponed,
    "HearingHeld": lambda w, d: (f"Hearing held ({w.name_of(d.get('hearing_event_id'))}): "
                                 f"{HEARING_OUTCOMES.get(d.get('outcome'), d.get('outcome'))}"),
    "AppealFiled": lambda w, d: _with("Appeal filed", " with ", d.get("court")),
    "AppealDecided": lambda w, d: _with(f"Appeal {d.get('outcome')}", " by ", d.get("court")),
    "DeadlineSet": lambda w, d: f"Deadline set: {d.get('kind')}, due {w.moment(d.get('at'))}",
    "DeadlineMet": lambda w, d: f"Deadline met ({w.name_of(d.get('deadline_event_id'))})",
    "RemovalOrderIssued": lambda w, d: _with("Removal order issued", " by ", d.get("authority")),
    "RemovalScheduled": _removal_scheduled,
    "RemovalCancelled": lambda w, d: "Removal cancelled",
    "RemovalNotCarriedOut": lambda w, d: "Scheduled removal not carried out",
    "InterimMeasureRequested": lambda w, d: f"Interim measures requested from {MEASURE_BODIES.get(d.get('body'))}",
    "InterimMeasureGranted": lambda w, d: _with(f"Interim measures granted by {MEASURE_BODIES.get(d.get('body'))}",
                                                ", until ", w.moment(d.get("expires_at")) if d.get("expires_at")
                                                else None),
    "InterimMeasureRefused": lambda w, d: f"Interim measures refused by {MEASURE_BODIES.get(d.get('body'))}",
    "InterimMeasureLifted": lambda w, d: f"Interim measures lifted by {MEASURE_BODIES.get(d.get('body'))}",
    "Removed": lambda w, d: f"{REMOVAL_METHODS.get(d.get('method'), 'Removed')} to {d.get('destination')}",
    "DetainedOnReturn": lambda w, d: _with("Detained on return", " at ", d.get("place")),
    "WhereaboutsUnknown": lambda w, d: "Whereabouts unknown",
    "ContactEstablished": lambda w, d: f"Contact established with {d.get('with_whom')}",
    "Charged": lambda w, d: _with("Charged", ": ", _listed(d.get("charges"))),
    "Sentenced": lambda w, d: f"Sentenced: {d.get('term')}",
    "IllTreatmentReported": lambda w, d: "Ill-treatment reported",
    "Deceased": lambda w, d: "Death reported",
    "Resettled": lambda w, d: f"Resettled in {d.get('country')}",
}

# Free text a sentence does not carry, shown under it in the person's own words.
DETAIL_FIELDS = ("summary", "text", "reason", "note")
