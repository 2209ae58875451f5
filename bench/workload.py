"""A realistic, deterministic mix of case events for loading a database (data valid against the catalogue)."""
from __future__ import annotations

import base64
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from events.store import NewEvent

# (type, weight): roughly what a monitored case accumulates over months.
MIX: list[tuple[str, float]] = [
    ("NoteAdded", 30), ("SourceAttached", 10), ("ContactEstablished", 8), ("HearingScheduled", 6),
    ("HearingPostponed", 3), ("DeadlineSet", 5), ("Detained", 4), ("TransferredToFacility", 3), ("Released", 2),
    ("ExtraditionRequested", 2), ("DiplomaticAssurancesOffered", 1), ("ExtraditionOrdered", 1),
    ("ExtraditionRefused", 1), ("AsylumClaimLodged", 2), ("AsylumDecided", 2), ("AppealFiled", 2),
    ("AppealDecided", 2), ("InterimMeasureRequested", 2), ("InterimMeasureGranted", 2),
    ("InterimMeasureLifted", 1), ("RemovalOrderIssued", 1), ("RemovalScheduled", 1), ("RemovalCancelled", 1),
    ("PersonDetailsUpdated", 2), ("EventRetracted", 1), ("CaseClosed", 0.5), ("CaseReopened", 0.5),
    ("Charged", 0.5), ("WhereaboutsUnknown", 0.5),
]
COUNTRIES = ["KZ", "RU", "TR", "AE", "DE", "UA", "KG", "TJ"]
BODIES = ["ECtHR", "UN_CAT", "UN_HRC"]


def _token(rng: random.Random) -> str:
    return "v1." + base64.b64encode(rng.randbytes(60)).decode()  # stands in for sealed personal data


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def case_events(rng: random.Random, per_case: int, start: datetime) -> list[NewEvent]:
    """CaseOpened followed by per_case-1 events drawn from MIX; a few are late reports (occurred earlier)."""
    country = rng.choice(COUNTRIES)
    t = start
    out = [NewEvent("CaseOpened", t, {"person": _token(rng), "country": country,
                                      "origin_country": rng.choice(COUNTRIES), "tags": ["extradition"],
                                      "teams": ["rapid-response"], "summary": "Detained on an Interpol notice."})]
    hearings: list[str] = []
    earlier: list[str] = []
    types, weights = zip(*MIX)
    for _ in range(per_case - 1):
        t = t + timedelta(hours=rng.randint(1, 72))
        occurred = t - timedelta(days=rng.randint(1, 20)) if rng.random() < 0.03 else t
        kind = rng.choices(types, weights)[0]
        if kind == "HearingPostponed" and not hearings:
            kind = "NoteAdded"
        if kind == "EventRetracted" and not earlier:
            kind = "NoteAdded"
        event_id = None
        data: dict[str, Any]
        if kind == "NoteAdded":
            data = {"text": f"Update from the lawyer, visit {rng.randint(1, 999)}: " + "x" * rng.randint(20, 200)}
        elif kind == "SourceAttached":
            data = {"url": f"https://news.example.org/{rng.randint(1, 10**6)}", "title": "Press report"}
        elif kind == "ContactEstablished":
            data = {"with_whom": "family"}
        elif kind == "HearingScheduled":
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            hearings.append(event_id)
            data = {"court": "Regional court", "kind": "extradition", "at": _iso(t + timedelta(days=30))}
        elif kind == "HearingPostponed":
            data = {"hearing_event_id": rng.choice(hearings), "new_at": _iso(t + timedelta(days=60))}
        elif kind == "DeadlineSet":
            data = {"kind": "appeal", "at": _iso(t + timedelta(days=14))}
        elif kind in ("Detained",):
            data = {"place": "SIZO-1", "authority": "police"}
        elif kind == "TransferredToFacility":
            data = {"place": "Detention centre 2"}
        elif kind == "Released":
            data = {"conditions": "reporting weekly"}
        elif kind == "ExtraditionRequested":
            data = {"requesting_state": country, "charges": ["extremism"]}
        elif kind == "DiplomaticAssurancesOffered":
            data = {"by_state": country}
        elif kind in ("ExtraditionOrdered", "ExtraditionRefused", "AsylumClaimLodged", "ProtectionRevoked"):
            data = {"authority": "Prosecutor General"}
        elif kind == "AsylumDecided":
            data = {"outcome": rng.choice(["granted", "refused", "inadmissible"])}
        elif kind == "AppealFiled":
            data = {"court": "Supreme court"}
        elif kind == "AppealDecided":
            data = {"outcome": rng.choice(["allowed", "dismissed"])}
        elif kind in ("InterimMeasureRequested", "InterimMeasureLifted"):
            data = {"body": rng.choice(BODIES)}
        elif kind == "InterimMeasureGranted":
            data = {"body": rng.choice(BODIES), "expires_at": _iso(t + timedelta(days=90))}
        elif kind == "RemovalOrderIssued":
            data = {"authority": "Migration service"}
        elif kind == "RemovalScheduled":
            data = {"at": _iso(t + timedelta(days=10)), "destination": country}
        elif kind == "RemovalCancelled":
            data = {"reason": "Interim measure granted"}
        elif kind == "PersonDetailsUpdated":
            data = {"person": _token(rng)}
        elif kind == "EventRetracted":
            data = {"event_id": rng.choice(earlier), "reason": "Entered by mistake"}
        elif kind in ("CaseClosed",):
            data = {"reason": "Resolved"}
        elif kind == "CaseReopened":
            data = {"reason": "New information"}
        elif kind == "Charged":
            data = {"charges": ["extremism"]}
        else:
            data = {}
        if kind in ("NoteAdded", "SourceAttached") and event_id is None and rng.random() < 0.1:
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            earlier.append(event_id)  # a possible retraction target
        out.append(NewEvent(kind, occurred, data, event_id=event_id))
    return out


def validate(events: list[NewEvent]) -> None:
    """Check generated data against the catalogue (personal data is a sealed token, so skip `person`)."""
    from events.catalogue import EVENT_TYPES

    for e in events:
        data = dict(e.data)
        if "person" in data:
            data["person"] = {"name": "Bench Person"}
        EVENT_TYPES[e.type].model.model_validate(data)


def start_time(rng: random.Random) -> datetime:
    return datetime(2023, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 365))
