"""Dates in words at their precision ('14 Dec 2023', 'December 2023', '2023'), the same in every zone."""
from __future__ import annotations

from datetime import datetime, timezone

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # spelled here, not by strftime, so the words never follow the server's locale


def calendar_date(moment: datetime, precision: str) -> str:
    """A date known to the day, month or year. Such dates are stored as midnight UTC of the date, so read in UTC."""
    day = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    if precision == "year":
        return f"{day.year}"
    if precision == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"
