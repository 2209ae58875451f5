"""Reminder rules (pure): which reminders a case needs, what to do with due ones, and how to word them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from .i18n import Moment, Phrase, phrase, phrase_n, render
from .projection import CaseState, awaiting_outcome, dated_items, status_of
from .records import parse_iso
from .timing import Timing

DAY = timedelta(days=1)
SOURCE_TYPES = {"hearing": "HearingScheduled", "deadline": "DeadlineSet", "removal": "RemovalScheduled",
                "measure_expiry": "InterimMeasureGranted", "contact_overdue": "Removed"}
# After a date passes with no outcome recorded: one "outcome_overdue" row per date (its item_type says which kind
# of date), due `outcome_overdue_after` after it; a removal's repeats daily until an outcome is recorded.
OUTCOME = "outcome_overdue"
REPEATING = {"contact_overdue", OUTCOME}  # kinds about something that has already passed
# Events that can change a case's dated items or its contact watch; others leave reminders untouched.
AFFECTING = {"HearingScheduled", "HearingPostponed", "DeadlineSet", "RemovalScheduled", "RemovalCancelled", "Removed",
             "InterimMeasureGranted", "InterimMeasureLifted", "InterimMeasureRefused", "ContactEstablished",
             "EventRetracted", "CaseClosed", "CaseReopened", "Deceased", "Resettled", "CaseOpened",
             "HearingHeld", "DeadlineMet", "RemovalNotCarriedOut", "Released", "AppealDecided", "AsylumDecided",
             "ExtraditionOrdered", "ExtraditionRefused"}


@dataclass(frozen=True)
class Planned:
    kind: str
    item_event_id: str
    item_at: datetime
    offset: timedelta
    due_at: datetime
    is_last: bool
    item_type: str | None = None  # the event that set the date, when the kind alone does not say

    @property
    def source_type(self) -> str:
        return self.item_type or SOURCE_TYPES[self.kind]

    @property
    def key(self) -> tuple[str, str, datetime, int]:
        return (self.kind, self.item_event_id, self.item_at, int(self.offset.total_seconds()))


def plan(state: CaseState, offsets: Iterable[timedelta], timing: Timing | timedelta) -> list[Planned]:
    """Every reminder the case calls for, whether or not its moment has passed (the caller decides)."""
    timing = Timing.of(timing)
    contact_overdue_after = timing.contact_overdue_after
    ordered = sorted(set(offsets), reverse=True)
    out: list[Planned] = []
    if status_of(state) in ("closed", "deceased"):
        return out
    for item in dated_items(state):
        at = parse_iso(item["at"])
        out += [Planned(item["kind"], item["event_id"], at, offset, at - offset, offset == ordered[-1])
                for offset in ordered if offset <= at - datetime.min.replace(tzinfo=timezone.utc)]
    removed = state.removed
    contact_after = removed and state.last_contact_at and state.last_contact_at >= removed["at"]
    if removed and not contact_after and not state.resettled_in:
        at = parse_iso(removed["at"])
        if contact_overdue_after <= datetime.max.replace(tzinfo=timezone.utc) - at:
            out.append(Planned("contact_overdue", removed["event_id"], at, timedelta(0), at + contact_overdue_after,
                               True))
    grace = timing.outcome_overdue_after
    for item in awaiting_outcome(state):
        at = parse_iso(item["at"])
        if grace <= datetime.max.replace(tzinfo=timezone.utc) - at:
            out.append(Planned(OUTCOME, item["event_id"], at, timedelta(0), at + grace, True,
                               SOURCE_TYPES[item["kind"]]))
    return out


@dataclass(frozen=True)
class Due:
    """A due reminder row as the tick sees it."""
    id: str
    kind: str
    item_event_id: str
    item_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Decision:
    id: str
    action: str  # fire / skip
    late: bool = False
    note: str | None = None


def decide(due: list[Due], now: datetime, grace: timedelta) -> list[Decision]:
    """Fire the newest due reminder of each date if that date is still ahead; skip the rest, saying why.

    After downtime several reminders of one date may be due at once: only the latest fires, so a restart never
    sends a storm of stale reminders. A reminder fired more than `grace` after its moment is marked late.
    """
    out: list[Decision] = []
    groups: dict[tuple[str, str, datetime], list[Due]] = {}
    for row in due:
        groups.setdefault((row.kind, row.item_event_id, row.item_at), []).append(row)
    for (kind, _, item_at), rows in groups.items():
        rows.sort(key=lambda r: r.due_at)
        newest = rows[-1]
        for row in rows[:-1]:
            out.append(Decision(row.id, "skip", note="a later reminder for the same date was due too"))
        if kind not in REPEATING and item_at <= now:
            out.append(Decision(newest.id, "skip", note="the date had passed when the reminder came due"))
        else:
            out.append(Decision(newest.id, "fire", late=now - newest.due_at > grace))
    return out


def outcome_severity(item_type: str) -> str:
    """A removal whose date passed without news is an emergency; a hearing or deadline is high."""
    return "critical" if item_type == "RemovalScheduled" else "high"


def repeats(kind: str, item_type: str) -> bool:
    return kind == "contact_overdue" or (kind == OUTCOME and item_type == "RemovalScheduled")


def contact_checks_end(removed_at: datetime, contact_overdue_after: timedelta, repeat_for: timedelta) -> datetime:
    """The last moment a contact check may fall: it first comes due `contact_overdue_after` after the removal,
    then repeats daily for `repeat_for` (bounded: the case stays critical, the pages stop)."""
    try:
        return removed_at + contact_overdue_after + repeat_for
    except OverflowError:
        return datetime.max.replace(tzinfo=timezone.utc)


def next_contact_check(due_at: datetime, now: datetime, until: datetime | None = None) -> datetime | None:
    """Contact overdue (and a passed removal's outcome) repeats daily; after downtime the next one is the first daily moment still ahead.
    None once that moment would fall after `until`."""
    missed = max(0, int((now - due_at) / DAY))
    following = due_at + DAY * (missed + 1)
    return None if until is not None and following > until else following


def local_and_utc(moment: datetime, zone: str | None) -> str:
    """The case's local time first, UTC beside it: '2026-12-03 06:30 CET (Europe/Paris; 05:30 UTC)'.

    UTC carries its own date when it falls on another day than the local time."""
    utc = moment.astimezone(timezone.utc)
    if not zone or zone == "UTC":
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    local = moment.astimezone(ZoneInfo(zone))
    beside = utc.strftime("%H:%M UTC" if utc.date() == local.date() else "%Y-%m-%d %H:%M UTC")
    return f"{local.strftime('%Y-%m-%d %H:%M %Z')} ({zone}; {beside})"


def _until(delta: timedelta) -> Phrase:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return phrase_n("%(n)s min", "%(n)s min", max(1, round(hours * 60)))
    if hours < 72:
        return phrase_n("%(n)s h", "%(n)s h", round(hours))
    return phrase_n("%(n)s day", "%(n)s days", round(hours / 24))


def _ago(delta: timedelta) -> Phrase:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return phrase_n("%(n)s h ago", "%(n)s h ago", max(1, round(hours)))
    return phrase_n("%(n)s day ago", "%(n)s days ago", round(hours / 24))


def title(kind: str, label: str | None, item_at: datetime, now: datetime, zone: str | None,
          item_type: str | None = None) -> str:
    return render(title_phrase(kind, label, item_at, now, zone, item_type))


PASSED = {"RemovalScheduled": phrase("Removal date passed %(ago)s (%(when)s): outcome not recorded"),
          "HearingScheduled": phrase("Hearing passed %(ago)s (%(when)s): outcome not recorded"),
          "DeadlineSet": phrase("Deadline passed %(ago)s (%(when)s): outcome not recorded")}
COMING = {"hearing": phrase("Hearing in %(until)s: %(when)s"), "deadline": phrase("Deadline in %(until)s: %(when)s"),
          "removal": phrase("Removal in %(until)s: %(when)s"),
          "measure_expiry": phrase("Interim measure expires in %(until)s: %(when)s")}


def title_phrase(kind: str, label: str | None, item_at: datetime, now: datetime, zone: str | None,
                 item_type: str | None = None) -> Phrase:
    """A reminder's title, to be read in each subscriber's language."""
    when = Moment(item_at, zone)
    if kind == OUTCOME:
        words = PASSED.get(item_type or "", phrase("Date passed %(ago)s (%(when)s): outcome not recorded"))
        return Phrase(words.msgid, (("ago", _ago(now - item_at)), ("when", when)))
    if kind == "contact_overdue":
        return phrase("No contact since removal on %(when)s", when=when)
    words = Phrase(COMING[kind].msgid, (("until", _until(item_at - now)), ("when", when)))
    return phrase("%(title)s (%(label)s)", title=words, label=label) if label else words
