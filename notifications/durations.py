"""ISO 8601 durations (weeks, days, hours, minutes, seconds): parsing within a bound, and formatting; pure."""
from __future__ import annotations

import re
from datetime import timedelta

# Nine digits per part is far beyond any bound below and keeps timedelta from overflowing on hostile input.
_DURATION = re.compile(r"^P(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})S)?)?",
                       re.ASCII)

# What the domain needs, and no more: a reminder a year before a date, an escalation within a week.
MAX_REMINDER = timedelta(days=366)
MAX_ESCALATION = timedelta(days=7)
MAX_ANY = timedelta(days=3660)


def parse_duration(text: str, maximum: timedelta = MAX_ANY) -> timedelta:
    """`PT72H`, `P2D`, `P1DT12H`...; years and months are refused as ambiguous, and so is anything over `maximum`."""
    match = _DURATION.fullmatch(text or "")  # fullmatch: "$" would also accept a trailing newline
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"'{text}' is not an ISO 8601 duration such as PT72H or P2D")
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total > maximum.total_seconds():
        raise ValueError(f"'{text}' is longer than {format_duration(maximum)}")
    return timedelta(seconds=total)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else ("" if days else "T0S"))
