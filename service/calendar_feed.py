"""The calendar feed (pure): a case's dated items as iCalendar events, built from projections and `now` alone."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.i18n import Phrase, phrase, render
from events.projection import CaseState, status_of
from events.utc import UTC, parse_iso

# icalendar is imported when a feed is built, not at start: about 3 MiB in every serving process otherwise.
if TYPE_CHECKING:
    from icalendar import Alarm

# A date that has passed stays this long (its outcome may not be recorded yet), then leaves the feed.
PAST_HORIZON = timedelta(days=3)
REFRESH = timedelta(hours=1)  # how often a calendar app is asked to fetch the feed again
UID_DOMAIN = "vigil"
ZONE_YEARS = 30  # a VTIMEZONE spells out its zone's changes this far ahead at most; apps carry the last one on
FINISHED = ("closed", "deceased")  # statuses whose dates no one attends any more


@dataclass(frozen=True)
class FeedCase:
    """One case as the feed reads it: its projection, and its person's name when the feed may carry it."""
    case_id: str
    version: int
    updated_at: datetime
    state: CaseState
    name: str | None = None


@dataclass(frozen=True)
class Dated:
    """One dated item: `identity` stays the same when the date moves, so its calendar entry is updated, not
    duplicated."""
    kind: str  # hearing / deadline / removal / measure_expiry
    identity: str
    start: datetime
    end: datetime | None
    what: Phrase


def dated(state: CaseState) -> list[Dated]:
    """Every date the case waits for that has no outcome yet: hearings, deadlines, the removal (its moment, or its
    window from start to end) and interim-measure expiries."""
    if status_of(state) in FINISHED or state.resettled_in:
        return []
    out: list[Dated] = []
    for h in state.hearings:
        if h.get("at") and not h.get("done"):
            out.append(Dated("hearing", h["event_id"], parse_iso(h["at"]), None,
                             phrase("Hearing: %(kind)s, %(court)s", kind=h["kind"], court=h["court"])))
    for d in state.deadlines:
        if not d.get("done"):
            out.append(Dated("deadline", d["event_id"], parse_iso(d["at"]), None,
                             phrase("Deadline: %(kind)s", kind=d["kind"])))
    r = state.removal
    if r and r.get("at"):
        # One removal at a time: a rescheduled removal is the same entry, moved.
        out.append(Dated("removal", "removal", parse_iso(r["at"]), None,
                         phrase("Removal to %(destination)s", destination=r["destination"])))
    elif r:
        out.append(Dated("removal", "removal", parse_iso(r["window_start"]), parse_iso(r["window_end"]),
                         phrase("Removal window, to %(destination)s", destination=r["destination"])))
    for m in state.interim_measures:
        if m.get("expires_at"):
            # A measure granted again by the same body replaces the first: the body is the identity.
            out.append(Dated("measure_expiry", hashlib.sha256(m["body"].encode()).hexdigest()[:16],
                             parse_iso(m["expires_at"]), None,
                             phrase("Interim measure (%(body)s) expires", body=m["body"])))
    return sorted(out, key=lambda d: d.start)


def uid(case_id: str, item: Dated) -> str:
    return f"{case_id}.{item.kind}.{item.identity}@{UID_DOMAIN}"


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _local(moment: datetime, zone) -> datetime:
    try:
        return moment.astimezone(zone)
    except OverflowError:  # within hours of year 9999: only a made-up date gets here
        return moment


def _alarms(start: datetime, offsets: Sequence[timedelta], now: datetime, what: str) -> list[Alarm]:
    """One alarm per reminder offset whose moment is still ahead (a calendar app would ring a passed one at once)."""
    from icalendar import Alarm

    alarms = []
    for offset in sorted(set(offsets), reverse=True):
        if start - offset > now:
            alarm = Alarm.new(description=what)
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -offset)
            alarms.append(alarm)
    return alarms


def build_calendar(cases: Iterable[FeedCase], now: datetime, offsets: Sequence[timedelta], *, calendar_id: str,
                   case_url: str, lang: str = "en") -> bytes:
    """The feed as iCalendar bytes: one VEVENT per dated item not older than PAST_HORIZON, in its case's time
    zone (with its VTIMEZONE), alarms at the reminder offsets still ahead. `case_url` is the dashboard's address of
    a case, with "{case_id}" in it. A case's person is named only when its FeedCase carries the name.

    SEQUENCE is the case's version: it only grows, and it grows whenever one of the case's dates moves, which is
    what calendar apps need to take the new time over the one they hold."""
    from icalendar import Calendar, Event

    cal = Calendar.new(name=render(phrase("Vigil: dates of your cases"), lang), prodid="-//Vigil//calendar//EN",
                       uid=f"{calendar_id}@{UID_DOMAIN}", refresh_interval=REFRESH)
    cal.add("x-published-ttl", "PT1H")  # the older hint of the same, for Outlook
    horizon = now - PAST_HORIZON
    latest = now
    for case in cases:
        zone = _zone(case.state.timezone)
        for item in dated(case.state):
            if (item.end or item.start) < horizon:
                continue
            who = (phrase("%(what)s (%(name)s)", what=item.what, name=case.name) if case.name
                   else phrase("%(what)s (case %(case)s)", what=item.what, case=case.case_id[:8]))
            summary = render(who, lang)
            url = case_url.replace("{case_id}", case.case_id)
            event = Event.new(uid=uid(case.case_id, item), summary=summary, start=_local(item.start, zone),
                              end=_local(item.end, zone) if item.end else None, stamp=now,
                              last_modified=case.updated_at.astimezone(UTC), sequence=case.version,
                              description=render(phrase("Case: %(url)s", url=url), lang), url=url,
                              subcomponents=_alarms(item.start, offsets, now, summary))
            cal.add_component(event)
            latest = max(latest, item.end or item.start)
    # Each zone's rules from a year back to a year past the last item (icalendar derives them from zoneinfo).
    last_year = min(latest.year + 2, now.year + ZONE_YEARS, 9999)
    cal.add_missing_timezones(first_date=date(max(horizon.year - 1, 1), 1, 1), last_date=date(last_year, 1, 1))
    return cal.to_ical()
