"""Event types named for people, in any language (the fallback title of an alert, the dashboard's words)."""
from __future__ import annotations

from .i18n import Phrase, phrase

NAMES = {
    "CaseOpened": phrase("Case opened"),
    "PersonDetailsUpdated": phrase("Person details updated"),
    "NoteAdded": phrase("Note added"),
    "SourceAttached": phrase("Source attached"),
    "EventRetracted": phrase("Event retracted"),
    "CaseClosed": phrase("Case closed"),
    "CaseReopened": phrase("Case reopened"),
    "PersonalDataErased": phrase("Personal data erased"),
    "Detained": phrase("Detained"),
    "TransferredToFacility": phrase("Transferred to facility"),
    "Released": phrase("Released"),
    "ExtraditionRequested": phrase("Extradition requested"),
    "DiplomaticAssurancesOffered": phrase("Diplomatic assurances offered"),
    "ExtraditionOrdered": phrase("Extradition ordered"),
    "ExtraditionRefused": phrase("Extradition refused"),
    "AsylumClaimLodged": phrase("Asylum claim lodged"),
    "AsylumDecided": phrase("Asylum decided"),
    "ProtectionRevoked": phrase("Protection revoked"),
    "HearingScheduled": phrase("Hearing scheduled"),
    "HearingPostponed": phrase("Hearing postponed"),
    "AppealFiled": phrase("Appeal filed"),
    "AppealDecided": phrase("Appeal decided"),
    "DeadlineSet": phrase("Deadline set"),
    "HearingHeld": phrase("Hearing held"),
    "DeadlineMet": phrase("Deadline met"),
    "RemovalOrderIssued": phrase("Removal order issued"),
    "RemovalScheduled": phrase("Removal scheduled"),
    "RemovalCancelled": phrase("Removal cancelled"),
    "RemovalNotCarriedOut": phrase("Removal not carried out"),
    "InterimMeasureRequested": phrase("Interim measure requested"),
    "InterimMeasureGranted": phrase("Interim measure granted"),
    "InterimMeasureRefused": phrase("Interim measure refused"),
    "InterimMeasureLifted": phrase("Interim measure lifted"),
    "Removed": phrase("Removed"),
    "DetainedOnReturn": phrase("Detained on return"),
    "WhereaboutsUnknown": phrase("Whereabouts unknown"),
    "ContactEstablished": phrase("Contact established"),
    "Charged": phrase("Charged"),
    "Sentenced": phrase("Sentenced"),
    "IllTreatmentReported": phrase("Ill treatment reported"),
    "Deceased": phrase("Deceased"),
    "Resettled": phrase("Resettled"),
}


# Data fields of the events, named as the dashboard labels them.
FIELDS = {
    "aliases": phrase("Aliases"),
    "at": phrase("At"),
    "authority": phrase("Authority"),
    "birth_year": phrase("Birth year"),
    "body": phrase("Body"),
    "by_state": phrase("By state"),
    "charges": phrase("Charges"),
    "conditions": phrase("Conditions"),
    "country": phrase("Country"),
    "court": phrase("Court"),
    "deadline_event_id": phrase("Deadline event id"),
    "destination": phrase("Destination"),
    "document": phrase("Document"),
    "erased_by": phrase("Erased by"),
    "event_id": phrase("Event id"),
    "expires_at": phrase("Expires at"),
    "hearing_event_id": phrase("Hearing event id"),
    "kind": phrase("Kind"),
    "method": phrase("Method"),
    "name": phrase("Name"),
    "nationality": phrase("Nationality"),
    "new_at": phrase("New at"),
    "note": phrase("Note"),
    "origin_country": phrase("Origin country"),
    "outcome": phrase("Outcome"),
    "person": phrase("Person"),
    "place": phrase("Place"),
    "reason": phrase("Reason"),
    "requesting_state": phrase("Requesting state"),
    "route": phrase("Route"),
    "sha256": phrase("Sha256"),
    "summary": phrase("Summary"),
    "tags": phrase("Tags"),
    "teams": phrase("Teams"),
    "term": phrase("Term"),
    "text": phrase("Text"),
    "timezone": phrase("Timezone"),
    "title": phrase("Title"),
    "url": phrase("Url"),
    "window_end": phrase("Window end"),
    "window_start": phrase("Window start"),
    "with_whom": phrase("With whom"),
}
# The catalogue's groups of event types.
GROUPS = {
    "case": phrase("Case"),
    "detention": phrase("Detention"),
    "extradition": phrase("Extradition"),
    "asylum": phrase("Asylum"),
    "courts": phrase("Courts"),
    "removal": phrase("Removal"),
    "international": phrase("International"),
    "after_return": phrase("After return"),
}
PRECISIONS = {"exact": phrase("exact"), "day": phrase("day"), "month": phrase("month"), "year": phrase("year")}


def event_type_name(name: str) -> Phrase | str:
    """'ExtraditionRequested' -> 'Extradition requested', as a phrase; an unknown name as it is, spaced."""
    if name in NAMES:
        return NAMES[name]
    out = "".join(" " + c.lower() if c.isupper() else c for c in name).strip()
    return out[:1].upper() + out[1:]


# Values of a case's state shown as words (extradition, asylum, after return, a removal's method).
STATE_VALUES = {
    "none": phrase("none"), "requested": phrase("requested"), "ordered": phrase("ordered"),
    "refused": phrase("refused"), "pending": phrase("pending"), "granted": phrase("granted"),
    "inadmissible": phrase("inadmissible"), "revoked": phrase("revoked"),
    "released_at_destination": phrase("released at destination"),
    "detained_at_destination": phrase("detained at destination"),
    "whereabouts_unknown": phrase("whereabouts unknown"), "sentenced": phrase("sentenced"),
    "extradited": phrase("extradited"), "deported": phrase("deported"), "rendered": phrase("rendered"),
    "other": phrase("other"),
}


def state_value(value: str | None) -> Phrase | str:
    """'detained_at_destination' -> 'detained at destination', in any language."""
    if value is None:
        return ""
    return STATE_VALUES.get(value) or value.replace("_", " ")
