"""Pure formatting for the dashboard: times in the viewer's zone, countdowns, labels."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.timewords import calendar_date

STATUS_LABELS = {
    "monitoring": "Monitoring",
    "in_proceedings": "In proceedings",
    "removal_ordered": "Removal ordered",
    "removal_scheduled": "Removal scheduled",
    "removed": "Removed",
    "safe": "Safe",
    "deceased": "Deceased",
    "closed": "Closed",
}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder's name, or one too long
        return ZoneInfo("UTC")


def as_datetime(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | datetime | None, tz: str | None, precision: str = "exact") -> str:
    """A moment in the viewer's zone, as precise as it is known: '2026-11-22 09:51 CET', '14 Dec 2023',
    'December 2023', '2011'. A date known to the day or less is shown as written, with no invented time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    if precision in ("day", "month", "year"):
        return calendar_date(moment, precision)
    local = moment.astimezone(zone(tz))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def end_of_day(day: str, tz: str | None) -> datetime:
    """The last moment of a YYYY-MM-DD date in the viewer's zone: what "as it stood on that day" means to them."""
    moment = datetime.combine(date.fromisoformat(day), time.max, tzinfo=zone(tz))
    if not 1900 <= moment.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return moment


def countdown(value: str | datetime | None, now: datetime) -> str:
    """How far away a moment is, in the unit a person acts on: 'in 45 min', 'in 31 h', 'in 5 d', '3 h ago'."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    ahead = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        amount = f"{max(1, int(seconds // 60))} min"
    elif seconds < 72 * 3600:
        amount = f"{int(seconds // 3600)} h"
    else:
        amount = f"{int(seconds // 86400)} d"
    return f"in {amount}" if ahead else f"{amount} ago"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def humanize(name: str) -> str:
    """'ExtraditionRequested' -> 'Extradition requested'; 'window_start' -> 'Window start'."""
    if "_" in name or name.islower():
        return name.replace("_", " ").capitalize()
    words = []
    for char in name:
        if char.isupper() and words:
            words.append(" ")
        words.append(char.lower() if words else char)
    return "".join(words)


def _looks_like_moment(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[10] == "T" and text[:4].isdigit()


def datum(value, tz: str | None) -> str:
    """An event data value in words: moments in the viewer's zone, lists joined, empty parts left out."""
    if isinstance(value, dict):
        parts = [f"{humanize(k)}: {datum(v, tz)}" for k, v in value.items() if not is_empty(v)]
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(datum(v, tz) for v in value if not is_empty(v))
    if isinstance(value, str) and _looks_like_moment(value):
        try:
            return local_time(value, tz)
        except ValueError:
            return value
    return str(value)


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def event_name(summary: dict | None, tz: str | None) -> str:
    """An event named for a person: 'Detained on 14 Dec 2023', 'Removed on 2023-11-15 07:00 CET'."""
    if not summary:
        return "an event not in this case"
    return f"{humanize(summary['type'])} on {local_time(summary['occurred_at'], tz, summary.get('date_precision', 'exact'))}"
