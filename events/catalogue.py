"""The event catalogue: every event type, its versioned data schema, default alert severity and upcasters."""
from __future__ import annotations

import json
import types
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones
from typing import Annotated, Any, Callable, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import (
    AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model,
    model_validator,
)

from .text import multi_line, single_line

ZONE_NAMES = frozenset(available_timezones()) - {"Factory", "localtime"}


def _time_zone(name: str) -> str:
    # Checked against the list, never by opening a file named by the input.
    if name not in ZONE_NAMES:
        raise ValueError(f"'{name}' is not an IANA time zone such as Europe/Paris")
    return name


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]


def _plausible_year(value: datetime) -> datetime:
    # Also keeps UTC conversion from overflowing at the ends of the calendar.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_plausible_year)]
COUNTRY_MESSAGE = "Use a two-letter country code such as FR"


def _country(code: str) -> str:
    # Case-insensitive on the way in ("fr" is France), always stored upper-case.
    code = code.strip().upper()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise ValueError(COUNTRY_MESSAGE)
    return code


CountryCode = Annotated[str, AfterValidator(_country),
                        WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$",
                                        "description": "ISO 3166-1 alpha-2 code; lower case is accepted"})]
# Short fields go into alert titles, email subjects and chat headings: one line. Long ones may keep line breaks.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                      AfterValidator(single_line)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
                     AfterValidator(multi_line)]
Note = Annotated[str, StringConstraints(max_length=2000), AfterValidator(multi_line)]
SourceUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$", max_length=2000)]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
TeamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
MeasureBody = Literal["ECtHR", "UN_CAT", "UN_HRC", "other"]
Severity = Literal["info", "warning", "high", "critical"]


class EventData(BaseModel):
    """Base of every event's data: unknown fields are refused, a short `note` is always allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    note: Note | None = None


class Person(BaseModel):
    """The personal data of a case; it is only ever stored encrypted."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ShortText
    aliases: list[ShortText] = Field(default_factory=list, max_length=20)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    nationality: CountryCode | None = None


class PersonUpdate(BaseModel):
    """Fields of a `PersonDetailsUpdated`: only those given change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ShortText | None = None
    aliases: list[ShortText] | None = Field(default=None, max_length=20)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    nationality: CountryCode | None = None


# --- case ---
class CaseOpened(EventData):
    person: Person
    country: CountryCode
    origin_country: CountryCode | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    teams: list[TeamName] = Field(default_factory=list, max_length=50)
    summary: LongText | None = None
    timezone: TimeZoneName | None = None  # where the case's dates happen: reminders show local time too


class PersonDetailsUpdated(EventData):
    person: PersonUpdate


class NoteAdded(EventData):
    text: LongText


class SourceAttached(EventData):
    url: SourceUrl | None = None
    title: ShortText
    document: ShortText | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class EventRetracted(EventData):
    event_id: UUID
    reason: LongText


class CaseClosed(EventData):
    reason: LongText


class CaseReopened(EventData):
    reason: LongText | None = None


class PersonalDataErased(EventData):
    reason: LongText | None = None
    erased_by: ShortText


# --- detention ---
class Detained(EventData):
    place: ShortText | None = None
    authority: ShortText | None = None


class TransferredToFacility(EventData):
    place: ShortText


class Released(EventData):
    conditions: ShortText | None = None


# --- extradition ---
class ExtraditionRequested(EventData):
    requesting_state: CountryCode
    charges: list[ShortText] = Field(default_factory=list, max_length=50)


class DiplomaticAssurancesOffered(EventData):
    by_state: CountryCode | None = None


class ExtraditionOrdered(EventData):
    authority: ShortText | None = None


class ExtraditionRefused(EventData):
    authority: ShortText | None = None


# --- asylum ---
class AsylumClaimLodged(EventData):
    authority: ShortText | None = None


class AsylumDecided(EventData):
    outcome: Literal["granted", "refused", "inadmissible"]
    authority: ShortText | None = None


class ProtectionRevoked(EventData):
    authority: ShortText | None = None


# --- courts ---
class HearingScheduled(EventData):
    court: ShortText
    kind: ShortText
    at: Moment


class HearingPostponed(EventData):
    hearing_event_id: UUID
    new_at: Moment | None = None


class AppealFiled(EventData):
    court: ShortText | None = None


class AppealDecided(EventData):
    outcome: Literal["allowed", "dismissed"]
    court: ShortText | None = None


class DeadlineSet(EventData):
    kind: ShortText
    at: Moment


class HearingHeld(EventData):
    """The outcome of a scheduled hearing: it took place (a decision may follow as its own event)."""
    hearing_event_id: UUID
    outcome: Literal["decided", "reserved", "adjourned", "other"]


class DeadlineMet(EventData):
    """A deadline set by `DeadlineSet` was met (the filing was made), or no longer applies."""
    deadline_event_id: UUID


# --- removal ---
class RemovalOrderIssued(EventData):
    authority: ShortText | None = None


class RemovalScheduled(EventData):
    at: Moment | None = None
    window_start: Moment | None = None
    window_end: Moment | None = None
    destination: CountryCode
    route: ShortText | None = None

    @model_validator(mode="after")
    def _when(self) -> "RemovalScheduled":
        if self.at is None and (self.window_start is None or self.window_end is None):
            raise ValueError("at, or both window_start and window_end, is required")
        if self.at is not None and (self.window_start or self.window_end):
            raise ValueError("give either at or window_start/window_end, not both")
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class RemovalCancelled(EventData):
    reason: LongText | None = None


class RemovalNotCarriedOut(EventData):
    """The outcome of a scheduled removal whose date passed: it did not take place (refused boarding, flight
    cancelled, person not taken...). A removal that did take place is `Removed`."""
    reason: LongText | None = None


# --- international ---
class InterimMeasureRequested(EventData):
    body: MeasureBody


class InterimMeasureGranted(EventData):
    body: MeasureBody
    expires_at: Moment | None = None


class InterimMeasureRefused(EventData):
    body: MeasureBody


class InterimMeasureLifted(EventData):
    body: MeasureBody


# --- after return ---
class Removed(EventData):
    method: Literal["extradited", "deported", "rendered", "other"]
    destination: CountryCode


class DetainedOnReturn(EventData):
    place: ShortText | None = None


class WhereaboutsUnknown(EventData):
    pass


class ContactEstablished(EventData):
    with_whom: ShortText


class Charged(EventData):
    charges: list[ShortText] = Field(default_factory=list, max_length=50)


class Sentenced(EventData):
    term: ShortText


class IllTreatmentReported(EventData):
    pass


class Deceased(EventData):
    pass


class Resettled(EventData):
    country: CountryCode


def _as_stored(annotation: Any) -> Any:
    """A field's type without the limits input is held to (lengths, patterns, checks): what was accepted once is
    read back as it was stored, even after a limit is tightened. Types, literals and model checks still hold."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _as_stored(args[0])
    if origin in (Union, types.UnionType):
        return Union[tuple(_as_stored(a) for a in args)]
    if origin is list:
        return list[_as_stored(args[0])]
    return annotation


def stored_model(model: type[EventData]) -> type[EventData]:
    """The model stored data is read with: a subclass of `model` (so a handler typed with it is honest), its
    fields loosened by `_as_stored`, and `person` the sealed token the store keeps (events/personal_data.py)."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = str if name == "person" else _as_stored(info.annotation)
        default = (... if info.is_required() else
                   Field(default_factory=info.default_factory) if info.default_factory else info.default)
        fields[name] = (kind, default)
    return create_model(f"Stored{model.__name__}", __base__=model, __module__=__name__, **fields)


@dataclass(frozen=True)
class EventType:
    name: str
    group: str
    model: type[EventData]  # what a request is validated with
    default_severity: Severity
    schema_version: int = 1  # of `model`; data stored under an older one is upcast when read
    system_only: bool = False  # appended by Vigil itself, never through POST .../events
    stored: type[EventData] | None = None  # what stored data is read with: stored_model(model)


def _types() -> dict[str, EventType]:
    table: list[tuple[str, type[EventData], Severity]] = [
        ("case", CaseOpened, "info"), ("case", PersonDetailsUpdated, "info"), ("case", NoteAdded, "info"),
        ("case", SourceAttached, "info"), ("case", EventRetracted, "warning"), ("case", CaseClosed, "info"),
        ("case", CaseReopened, "warning"), ("case", PersonalDataErased, "info"),
        ("detention", Detained, "high"), ("detention", TransferredToFacility, "warning"),
        ("detention", Released, "info"),
        ("extradition", ExtraditionRequested, "high"), ("extradition", DiplomaticAssurancesOffered, "warning"),
        ("extradition", ExtraditionOrdered, "critical"), ("extradition", ExtraditionRefused, "info"),
        ("asylum", AsylumClaimLodged, "info"), ("asylum", AsylumDecided, "high"),
        ("asylum", ProtectionRevoked, "high"),
        ("courts", HearingScheduled, "warning"), ("courts", HearingPostponed, "warning"),
        ("courts", AppealFiled, "info"), ("courts", AppealDecided, "high"), ("courts", DeadlineSet, "warning"),
        ("courts", HearingHeld, "info"), ("courts", DeadlineMet, "info"),
        ("removal", RemovalOrderIssued, "high"), ("removal", RemovalScheduled, "critical"),
        ("removal", RemovalCancelled, "warning"), ("removal", RemovalNotCarriedOut, "high"),
        ("international", InterimMeasureRequested, "info"), ("international", InterimMeasureGranted, "info"),
        ("international", InterimMeasureRefused, "high"), ("international", InterimMeasureLifted, "high"),
        ("after_return", Removed, "critical"), ("after_return", DetainedOnReturn, "critical"),
        ("after_return", WhereaboutsUnknown, "critical"), ("after_return", ContactEstablished, "info"),
        ("after_return", Charged, "high"), ("after_return", Sentenced, "high"),
        ("after_return", IllTreatmentReported, "critical"), ("after_return", Deceased, "critical"),
        ("after_return", Resettled, "info"),
    ]
    system_only = {"PersonalDataErased"}
    return {
        model.__name__: EventType(model.__name__, group, model, severity, system_only=model.__name__ in system_only,
                                  stored=stored_model(model))
        for group, model, severity in table
    }


EVENT_TYPES: dict[str, EventType] = _types()

# (type, stored schema version) -> function turning that version's data into the next version's.
# Empty while every type is at version 1; add an entry and bump `schema_version` when a schema changes.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upcast(type_name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring stored data written under an older schema version up to the current one."""
    current = EVENT_TYPES[type_name].schema_version if type_name in EVENT_TYPES else schema_version
    while schema_version < current:
        data = UPCASTERS[(type_name, schema_version)](data)
        schema_version += 1
    return data


def schema_version(type_name: str) -> int:
    """The schema version data of this type is written under now (1 for a type outside the catalogue)."""
    kind = EVENT_TYPES.get(type_name)
    return kind.schema_version if kind is not None else 1


def read_data(type_name: str, version: int, text: str) -> EventData:
    """Stored data as its type's model at the current schema version, upcast first if written under an older one."""
    kind = EVENT_TYPES[type_name]
    if version == kind.schema_version:
        return kind.stored.model_validate_json(text)  # parsed and typed in one pass, as fast as json.loads
    return kind.stored.model_validate(upcast(type_name, version, json.loads(text)))


def catalogue_document() -> list[dict[str, Any]]:
    """The catalogue as served by GET /v1/event-types."""
    return [
        {
            "type": t.name,
            "group": t.group,
            "schema_version": t.schema_version,
            "default_severity": t.default_severity,
            "system_only": t.system_only,
            "schema": t.model.model_json_schema(),
        }
        for t in EVENT_TYPES.values()
    ]
