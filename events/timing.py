"""The time rules' settings that risk, the case list and reminders share (see README, "Risk and alerts")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Timing:
    contact_overdue_after: timedelta = timedelta(hours=48)
    outcome_overdue_after: timedelta = timedelta(hours=2)  # a passed date with no outcome alerts after this grace
    outcome_watch: timedelta = timedelta(days=14)  # a passed hearing or deadline without outcome is high this long
    history_horizon: timedelta = timedelta(days=7)  # crises older than this rank below current ones; no page
    contact_repeat_for: timedelta = timedelta(days=30)  # contact.overdue repeats daily this long, then stops

    @classmethod
    def of(cls, value: "Timing | timedelta") -> "Timing":
        """Callers that only know the contact rule may still pass that duration alone."""
        return value if isinstance(value, Timing) else cls(contact_overdue_after=value)

    @classmethod
    def from_settings(cls, settings) -> "Timing":
        return cls(settings.contact_overdue_after, settings.outcome_overdue_after, settings.outcome_watch,
                   settings.history_horizon, settings.contact_overdue_repeat_for)
