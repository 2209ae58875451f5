"""Pure formatting for the dashboard: times in the viewer's zone, countdowns, labels."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.event_names import FIELDS, GROUPS, NAMES as EVENT_NAMES
from events.i18n import DEFAULT, Phrase, Said, day_words, phrase, phrase_n, render, when_text
from events.timewords import calendar_date

STATUS_PHRASES = {
    "monitoring": phrase("Monitoring"),
    "in_proceedings": phrase("In proceedings"),
    "removal_ordered": phrase("Removal ordered"),
    "removal_scheduled": phrase("Removal scheduled"),
    "removed": phrase("Removed"),
    "safe": phrase("Safe"),
    "deceased": phrase("Deceased"),
    "closed": phrase("Closed"),
}
STATUS_LABELS = {status: render(words) for status, words in STATUS_PHRASES.items()}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder's name, or one too long
        return ZoneInfo("UTC")


def as_datetime(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | datetime | None, tz: str | None, precision: str = "exact", lang: str = DEFAULT) -> str:
    """A moment in the viewer's zone, as precise as it is known: '2026-11-22 09:51 CET', '14 Dec 2023',
    'December 2023', '2011'. A date known to the day or less is shown as written, with no invented time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    if lang != DEFAULT:
        return day_words(moment, precision, lang) if precision in ("day", "month", "year") else \
            when_text(moment, zone(tz).key, lang)
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


def countdown(value: str | datetime | None, now: datetime, lang: str = DEFAULT) -> str:
    return render(countdown_phrase(value, now), lang) if as_datetime(value) else ""


def countdown_phrase(value: str | datetime | None, now: datetime) -> Phrase:
    """How far away a moment is, in the unit a person acts on: 'in 45 min', 'in 31 h', 'in 5 d', '3 h ago'."""
    seconds = (as_datetime(value) - now).total_seconds()
    ahead = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        amount = phrase_n("%(n)s min", "%(n)s min", max(1, int(seconds // 60)))
    elif seconds < 72 * 3600:
        amount = phrase_n("%(n)s h", "%(n)s h", int(seconds // 3600))
    else:
        amount = phrase_n("%(n)s d", "%(n)s d", int(seconds // 86400))
    return phrase("in %(amount)s", amount=amount) if ahead else phrase("%(amount)s ago", amount=amount)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def status_phrase(status: str) -> Phrase | str:
    return STATUS_PHRASES.get(status) or status_label(status)


def field_phrase(name: str) -> Phrase | str:
    """A data field's label ('window_start' -> 'Window start'), in any language."""
    return FIELDS.get(name) or humanize(name)


def group_phrase(name: str) -> Phrase | str:
    return GROUPS.get(name) or humanize(name)


def type_phrase(name: str) -> Phrase | str:
    """An event type's name in words, in any language; other names humanized."""
    return EVENT_NAMES.get(name) or humanize(name)


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
    if isinstance(value, Said):  # words of Vigil's own, shown in the page's language
        return value
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
