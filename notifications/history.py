"""History does not page (pure): which appended events are history, and the one alert a risk rise calls for."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from events.projection import CaseState
from events.records import StoredEvent
from events.i18n import Phrase, phrase, render
from events.risk import LEVEL_WORDS, Risk, assess
from events.timing import Timing
from events.utc import aware

from .rules import AlertDraft

# The alert a risk rise raises has the severity of the level it rose to.
LEVEL_SEVERITY = {"critical": "critical", "high": "high", "elevated": "warning", "monitoring": "info"}


def latest_moment(occurred_at: datetime, precision: str) -> datetime:
    """The last moment an event known at this precision can have happened: 2023 (year) may be 31 Dec 2023."""
    start = aware(occurred_at)
    try:
        if precision == "day":
            return start + timedelta(days=1)
        if precision == "month":
            return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1, day=1)
        if precision == "year":
            return start.replace(year=start.year + 1, month=1, day=1)
    except (ValueError, OverflowError):  # past the year 9999: not history in any case
        return datetime.max.replace(tzinfo=timezone.utc)
    return start


def is_history(event: StoredEvent, now: datetime, horizon: timedelta) -> bool:
    """Happened (at the latest) longer ago than the horizon: reported long after the fact."""
    return latest_moment(event.occurred_at, event.date_precision) < now - horizon


def risk_raised(before: CaseState, after: CaseState, now: datetime, contact_overdue_after: Timing | timedelta,
                event_id: str) -> AlertDraft | None:
    """One alert when an append raised the case's risk level now, or added a reason to a critical case (a removal
    learned late, with no contact since, on a case already critical for its removal date); None otherwise."""
    if before is after:  # the fold kept nothing new (a note, a source): the same state assesses the same, unraised
        return None
    old, new = assess(before, now, contact_overdue_after), assess(after, now, contact_overdue_after)
    added = [p for p in new.phrases if render(p) not in old.reasons]  # as said, not as built
    if new.level not in LEVEL_SEVERITY or not added:
        return None
    if not (new.rank > old.rank or new.level == "critical"):
        return None
    words = title(old, new, added)
    return AlertDraft("risk.raised", LEVEL_SEVERITY[new.level], render(words)[:300], event_id,
                      f"risk:{event_id}", phrase=words)


def title(old: Risk, new: Risk, added: list[Phrase]) -> Phrase:
    level = LEVEL_WORDS.get(new.level, new.level)
    if new.rank > old.rank:
        return phrase("Risk raised to %(level)s: %(reasons)s", level=level, reasons=added)
    return phrase("Still %(level)s, and now: %(reasons)s", level=level, reasons=added)
