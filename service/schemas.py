"""Request bodies of the case API (validated by FastAPI; event `data` is validated per type afterwards)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from typing_extensions import Annotated

from events.catalogue import (
    CountryCode, LongText, Moment, Person, ShortText, SourceUrl, Tag, TeamName, TimeZoneName,
)
from events.text import single_line

DatePrecision = Literal["exact", "day", "month", "year"]
BARE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def dated(raw: Any) -> Any:
    """An `occurred_at` given as a bare date ("2023-11-15") and precision `day` unless the body says otherwise.

    A date known only to the day, month or year is stored as midnight UTC of the calendar date as written, so it
    shows as that date in every time zone and no time of day is invented for it."""
    if not isinstance(raw, dict) or raw.get("occurred_at") is None:
        return raw
    moment = raw["occurred_at"]
    if isinstance(moment, str) and BARE_DATE.fullmatch(moment):
        try:
            day = date.fromisoformat(moment)
        except ValueError:
            return raw  # left to the field's own validation, which names it
        raw = {**raw, "occurred_at": datetime.combine(day, time.min, tzinfo=timezone.utc)}
        raw.setdefault("date_precision", "day")
    return raw


def to_precision(moment: datetime | None, precision: str) -> datetime | None:
    if moment is None or precision == "exact":
        return moment
    return datetime.combine(moment.date(), time.min, tzinfo=timezone.utc)


class Dated(BaseModel):
    """A body with `occurred_at` and `date_precision`."""

    @model_validator(mode="before")
    @classmethod
    def _bare_date(cls, raw: Any) -> Any:
        return dated(raw)

    @model_validator(mode="after")
    def _at_precision(self):
        if self.date_precision != "exact":  # an exact moment stays as it is: no assignment on every body
            self.occurred_at = to_precision(self.occurred_at, self.date_precision)
        return self


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: SourceUrl | None = None
    title: ShortText | None = None
    reliability: Annotated[str, StringConstraints(max_length=50), AfterValidator(single_line)] | None = None


class CaseIn(Dated):
    model_config = ConfigDict(extra="forbid")
    person: Person
    country: CountryCode
    origin_country: CountryCode | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    teams: list[TeamName] | None = Field(default=None, max_length=50)
    summary: LongText | None = None
    timezone: TimeZoneName | None = None
    occurred_at: Moment | None = None
    date_precision: DatePrecision = "exact"


class EventIn(Dated):
    model_config = ConfigDict(extra="forbid")
    type: Annotated[str, StringConstraints(max_length=64)]
    occurred_at: Moment
    date_precision: DatePrecision = "exact"
    data: dict[str, Any] = Field(default_factory=dict)
    source: SourceIn | None = None
    event_id: UUID | None = None


class AppendOut(BaseModel):
    event_id: str
    version: int
    position: int
    log_index: int = Field(description="the event's leaf in the Merkle log: 0, 1, 2, ... in commit order")


class CaseCreatedOut(BaseModel):
    id: str
    version: int
    position: int
    log_index: int = Field(description="the opening event's leaf in the Merkle log")
