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


def event_type_name(name: str) -> Phrase | str:
    """'ExtraditionRequested' -> 'Extradition requested', as a phrase; an unknown name as it is, spaced."""
    if name in NAMES:
        return NAMES[name]
    out = "".join(" " + c.lower() if c.isupper() else c for c in name).strip()
    return out[:1].upper() + out[1:]
