"""Risk level and its plain-words reasons: a pure function of a case's projection and `now`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .projection import CaseState, dated_items, measures_in_force, status_of, upcoming
from .records import iso, parse_iso

LEVELS = ("resolved", "monitoring", "elevated", "high", "critical")
SOON = timedelta(hours=72)
BODY_NAMES = {"ECtHR": "ECtHR", "UN_CAT": "UN Committee against Torture",
              "UN_HRC": "UN Human Rights Committee", "other": "international"}


@dataclass(frozen=True)
class Risk:
    level: str
    reasons: list[str] = field(default_factory=list)

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


def _in(now: datetime, at: str) -> str:
    hours = (parse_iso(at) - now).total_seconds() / 3600
    return f"in {max(1, round(hours))} h" if hours < 72 else f"on {at[:10]}"


def _bodies(bodies: list[str]) -> str:
    return " and ".join(BODY_NAMES.get(b, b) for b in bodies)


def assess(state: CaseState, now: datetime, contact_overdue_after: timedelta = timedelta(hours=48)) -> Risk:
    """Critical, high, elevated, monitoring or resolved, with every reason that applies (most serious first)."""
    status = status_of(state)
    if status == "closed":
        return Risk("resolved", ["case closed"])
    critical: list[str] = []
    high: list[str] = []
    now_iso = iso(now)
    in_force = [m["body"] for m in measures_in_force(state, now)]

    removal = state.removal
    if removal:
        start, end = removal["at"] or removal["window_start"], removal["at"] or removal["window_end"]
        despite = f" despite {_bodies(in_force)} interim measure" if in_force else ""
        if start <= now_iso <= end:
            critical.append(f"removal window to {removal['destination']} is open now{despite}")
        elif now_iso < start and parse_iso(start) - now <= SOON:
            critical.append(f"removal to {removal['destination']} scheduled {_in(now, start)}{despite}")
        elif in_force and now_iso < start:
            critical.append(f"removal scheduled {_in(now, start)} despite {_bodies(in_force)} interim measure")
        elif now_iso < start:
            high.append(f"removal to {removal['destination']} scheduled {_in(now, start)}")
    removed = state.removed
    if removed:
        if removed["despite"]:
            critical.append(f"{removed['method']} to {removed['destination']} on {removed['at'][:10]} "
                            f"despite {_bodies(removed['despite'])} interim measure")
        contact_after_removal = state.last_contact_at and state.last_contact_at >= removed["at"]
        silent_since = parse_iso(removed["at"])
        if not contact_after_removal and now - silent_since >= contact_overdue_after:
            critical.append(f"no contact since removal on {removed['at'][:10]}")
        if state.after_return == "detained_at_destination":
            high.append(f"detained in {removed['destination']} after return")
    if state.whereabouts_unknown:
        critical.append("whereabouts unknown")
    if state.ill_treatment_reported:
        critical.append("ill-treatment reported")
    if state.deceased:
        critical.append("reported dead")
    if critical:
        return Risk("critical", critical + high)

    if status == "safe":
        return Risk("resolved", ["resettled" if state.resettled_in else "protection granted and at liberty"])

    if state.detained and (state.extradition in ("requested", "ordered") or state.removal_order):
        pending = "extradition request" if state.extradition == "requested" else (
            "extradition order" if state.extradition == "ordered" else "removal order")
        high.append(f"detained with {pending} pending")
    for item in upcoming(state, now):
        if item["kind"] in ("hearing", "deadline") and parse_iso(item["at"]) - now <= SOON:
            high.append(f"{item['label']} {_in(now, item['at'])}")
    if high:
        return Risk("high", high)

    if status in ("in_proceedings", "removal_ordered", "removal_scheduled", "removed"):
        reasons = {"in_proceedings": "proceedings pending", "removal_ordered": "removal ordered",
                   "removal_scheduled": "removal scheduled", "removed": "returned; contact established"}
        return Risk("elevated", [reasons[status]])
    if state.measures_requested:
        return Risk("elevated", [f"{_bodies(list(state.measures_requested))} interim measure requested"])
    return Risk("monitoring", ["nothing pending"])


NEVER = "9999"  # sorts after every RFC 3339 time: "nothing is coming" as a next date, "never" as a deadline


@dataclass(frozen=True)
class ListPlace:
    """Where a case sorts in the case list at `now` (most urgent first, then the soonest date), and until when
    that holds. The list query orders stored places and re-assesses only the cases whose place has lapsed."""
    rank: int  # Risk.rank
    next_at: str  # the first upcoming dated item, or NEVER
    valid_until: str  # neither rank nor next_at can change before this time; NEVER if they never change

    def order(self, case_id: str) -> tuple[int, str, str]:
        """The list's sort key, as the stored columns list_sort, list_next_at and case_id give it."""
        return -self.rank, self.next_at, case_id


def list_place(state: CaseState, now: datetime, contact_overdue_after: timedelta = timedelta(hours=48)) -> ListPlace:
    coming = upcoming(state, now)
    changes = _changes_from(state, now, contact_overdue_after)
    return ListPlace(assess(state, now, contact_overdue_after).rank, coming[0]["at"] if coming else NEVER,
                     iso(changes) if changes is not None else NEVER)


def _changes_from(state: CaseState, now: datetime, contact_overdue_after: timedelta) -> datetime | None:
    """The first instant at or after `now` at which a rule of `assess` or `upcoming` that reads the time can
    flip: a dated item passing or coming within SOON, a removal window closing, contact becoming overdue."""
    instants: list[datetime] = []
    for item in dated_items(state):
        at = parse_iso(item["at"])
        instants += [at, at - SOON]
    if state.removal and state.removal.get("window_end"):
        instants.append(parse_iso(state.removal["window_end"]))
    if state.removed:
        instants.append(parse_iso(state.removed["at"]) + contact_overdue_after)
    return min((t for t in instants if t >= now), default=None)
