"""UTC times: the one text form Vigil keeps and answers with, and how times go to and come from the database."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

UTC = timezone.utc


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds and a `Z`, the one textual form of a time inside Vigil and in answers."""
    if value is None:
        return None
    utc = value.astimezone(UTC).replace(tzinfo=None)
    text = utc.isoformat()
    return (text if utc.microsecond else text + ".000000") + "Z"


def parse_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def aware(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC (SQLite keeps no time zone)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def from_db(value: datetime | str) -> datetime:
    """A time as a driver hands it back: PostgreSQL an aware datetime, SQLite naive UTC text."""
    return aware(datetime.fromisoformat(value) if isinstance(value, str) else value)


def to_db(value: datetime, postgres: bool) -> Any:
    """A time as the UTCDateTime column type binds it (SQLite: naive UTC text with microseconds)."""
    utc = value.astimezone(UTC)
    if postgres:
        return utc
    text = utc.replace(tzinfo=None).isoformat(" ")  # isoformat is several times cheaper than strftime
    return text if utc.microsecond else text + ".000000"


def iso_and_db(value: datetime, postgres: bool) -> tuple[str, Any]:
    """`(iso(value), to_db(value, postgres))` from one conversion: a bulk load writes both for every event."""
    utc = value.astimezone(UTC)
    text = utc.replace(tzinfo=None).isoformat()
    if not utc.microsecond:
        text += ".000000"
    return text + "Z", (utc if postgres else f"{text[:10]} {text[11:]}")
