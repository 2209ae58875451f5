"""Risk level and its plain-words reasons: a pure function of a case's projection and `now`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .projection import (CaseState, Item, awaiting_outcome, dated_items, measures_in_force, overdue, removal_end,
                         status_of, upcoming)
from .i18n import Day, Phrase, Said, phrase, phrase_n
from .records import iso, parse_iso
from .timing import Timing

LEVELS = ("resolved", "monitoring", "elevated", "high", "critical")
SOON = timedelta(hours=72)
BODY_NAMES = {"ECtHR": phrase("ECtHR"), "UN_CAT": phrase("UN Committee against Torture"),
              "UN_HRC": phrase("UN Human Rights Committee"), "other": phrase("international")}
METHODS = {"extradited": phrase("extradited"), "deported": phrase("deported"), "rendered": phrase("rendered"),
           "other": phrase("other")}
LEVEL_WORDS = {"resolved": phrase("resolved"), "monitoring": phrase("monitoring"), "elevated": phrase("elevated"),
               "high": phrase("high"), "critical": phrase("critical")}


@dataclass(frozen=True)
class Risk:
    level: str
    phrases: list[Phrase] = field(default_factory=list)  # the reasons, to be shown in any language
    since: str | None = None  # set when every reason behind the level lies in the past: see `assess`

    @property
    def reasons(self) -> list[str]:
        """The reasons in English, as the API gives them."""
        return [Said(p) for p in self.phrases]

    def chronic(self, now: datetime, horizon: timedelta) -> bool:
        """A crisis older than the horizon: it ranks below current ones of the same level."""
        return self.since is not None and now - parse_iso(self.since) >= horizon

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


def _in(now: datetime, at: str) -> Phrase:
    hours = (parse_iso(at) - now).total_seconds() / 3600
    if hours < 72:
        return phrase_n("in %(n)s h", "in %(n)s h", max(1, round(hours)))
    return phrase("on %(date)s", date=Day(parse_iso(at)))


YEAR = timedelta(days=365)


def _ago(now: datetime, at: str, horizon: timedelta) -> Phrase:
    """How long ago a date passed: hours or days while it is current, its date once it is history."""
    passed = now - parse_iso(at)
    if passed >= horizon:
        return _on(now, at)
    hours = passed.total_seconds() / 3600
    if hours < 48:
        return phrase_n("%(n)s h ago", "%(n)s h ago", max(1, round(hours)))
    return phrase_n("%(n)s day ago", "%(n)s days ago", round(hours / 24))


def _on(now: datetime, at: str) -> Phrase:
    """A past date: its day within the last year, its month before ("in June 2011")."""
    if now - parse_iso(at) >= YEAR:
        return phrase("in %(month)s", month=Day(parse_iso(at), "month-year"))
    return phrase("on %(date)s", date=Day(parse_iso(at)))


def _since(now: datetime, at: str) -> Phrase:
    if now - parse_iso(at) >= YEAR:
        return phrase("since %(month)s", month=Day(parse_iso(at), "month-of"))
    return phrase("since %(date)s", date=Day(parse_iso(at)))


def body_name(body: str) -> Phrase | str:
    return BODY_NAMES.get(body, body)


def _bodies(bodies: list[str]) -> Phrase | str:
    names = [body_name(b) for b in bodies]
    out = names[0] if names else ""
    for name in names[1:]:
        out = phrase("%(first)s and %(second)s", first=out, second=name)
    return out


def _despite(bodies: list[str]) -> Phrase:
    return phrase("despite %(bodies)s interim measure", bodies=_bodies(bodies))


def method_word(method: str) -> Phrase | str:
    return METHODS.get(method, method)


Reason = tuple[Phrase, "str | None"]  # its words, and since when it holds (None: it is about now or what is coming)
PENDING = {"requested": phrase("detained with extradition request pending"),
           "ordered": phrase("detained with extradition order pending"),
           None: phrase("detained with removal order pending")}
STATUS_REASONS = {"in_proceedings": phrase("proceedings pending"), "removal_ordered": phrase("removal ordered"),
                  "removal_scheduled": phrase("removal scheduled"),
                  "removed": phrase("returned; contact established")}


def _reasons(state: CaseState, now: datetime, timing: Timing) -> tuple[str, list[Reason], list[Reason]]:
    """The level, the reasons that make it, and lesser ones said beside them; each reason with its onset."""
    status = status_of(state)
    if status == "closed":
        return "resolved", [(phrase("case closed"), None)], []
    critical: list[Reason] = []
    high: list[Reason] = []
    now_iso = iso(now)
    horizon = timing.history_horizon
    in_force = [m["body"] for m in measures_in_force(state, now)]

    removal = state.removal
    if removal:
        start, end = removal["at"] or removal["window_start"], removal_end(removal)
        to = removal["destination"]
        despite = _despite(in_force) if in_force else ""
        if start <= now_iso <= end:
            critical.append((phrase("removal window to %(country)s is open now", country=to) if not in_force else
                             phrase("removal window to %(country)s is open now %(despite)s", country=to,
                                    despite=despite), None))
        elif now_iso < start and parse_iso(start) - now <= SOON:
            critical.append((phrase("removal to %(country)s scheduled %(when)s", country=to, when=_in(now, start))
                             if not in_force else
                             phrase("removal to %(country)s scheduled %(when)s %(despite)s", country=to,
                                    when=_in(now, start), despite=despite), None))
        elif in_force and now_iso < start:
            critical.append((phrase("removal scheduled %(when)s %(despite)s", when=_in(now, start),
                                    despite=despite), None))
        elif now_iso < start:
            high.append((phrase("removal to %(country)s scheduled %(when)s", country=to, when=_in(now, start)),
                         None))
        elif not (state.closed or state.deceased or state.resettled_in):  # the date has passed, with no news
            ago = _ago(now, end, horizon)
            critical.append((phrase("removal date passed %(ago)s; outcome not recorded", ago=ago) if not in_force
                             else phrase("removal date passed %(ago)s; outcome not recorded %(despite)s", ago=ago,
                                         despite=despite), end))
    removed = state.removed
    if removed:
        if removed["despite"]:
            critical.append((phrase("%(method)s to %(country)s on %(date)s %(despite)s",
                                    method=method_word(removed["method"]), country=removed["destination"],
                                    date=Day(parse_iso(removed["at"])), despite=_despite(removed["despite"])),
                             removed["at"]))
        contact_after_removal = state.last_contact_at and state.last_contact_at >= removed["at"]
        silent_since = parse_iso(removed["at"])
        if not contact_after_removal and now - silent_since >= timing.contact_overdue_after:
            critical.append((phrase("no contact since removal %(when)s", when=_on(now, removed["at"])),
                             removed["at"]))
        if state.after_return == "detained_at_destination":
            high.append((phrase("detained in %(country)s after return", country=removed["destination"]), None))
    if state.whereabouts_unknown:
        since = state.whereabouts_unknown_since
        old = since is not None and now - parse_iso(since) >= horizon
        critical.append((phrase("whereabouts unknown %(since)s", since=_since(now, since)) if old
                         else phrase("whereabouts unknown"), since))
    if state.ill_treatment_reported:
        at = state.ill_treatment_at
        old = at is not None and now - parse_iso(at) >= horizon
        critical.append((phrase("ill-treatment reported %(when)s", when=_on(now, at)) if old
                         else phrase("ill-treatment reported"), at))
    if state.deceased:
        at = state.deceased_at
        old = at is not None and now - parse_iso(at) >= horizon
        critical.append((phrase("reported dead %(when)s", when=_on(now, at)) if old else phrase("reported dead"), at))
    if critical:
        return "critical", critical, high

    if status == "safe":
        return "resolved", [(phrase("resettled") if state.resettled_in
                             else phrase("protection granted and at liberty"), None)], []

    if state.detained and (state.extradition in ("requested", "ordered") or state.removal_order):
        high.append((PENDING[state.extradition if state.extradition in ("requested", "ordered") else None], None))
    for item in _watched(state, now, timing):
        high.append((phrase("%(label)s passed %(ago)s; outcome not recorded", label=item["label"],
                            ago=_ago(now, item["at"], horizon)), item["at"]))
    for item in upcoming(state, now):
        if item["kind"] in ("hearing", "deadline") and parse_iso(item["at"]) - now <= SOON:
            high.append((phrase("%(label)s %(when)s", label=item["label"], when=_in(now, item["at"])), None))
    if high:
        return "high", high, []

    if status in STATUS_REASONS:
        return "elevated", [(STATUS_REASONS[status], None)], []
    if state.measures_requested:
        return "elevated", [(phrase("%(bodies)s interim measure requested",
                                    bodies=_bodies(list(state.measures_requested))), None)], []
    return "monitoring", [(phrase("nothing pending"), None)], []


def _watched(state: CaseState, now: datetime, timing: Timing) -> list[Item]:
    """Hearings and deadlines passed with no outcome recorded, for `outcome_watch` after they passed."""
    return [i for i in overdue(state, now) if i["kind"] != "removal" and now - parse_iso(i["at"]) < timing.outcome_watch]


def assess(state: CaseState, now: datetime, timing: Timing | timedelta = Timing()) -> Risk:
    """Critical, high, elevated, monitoring or resolved, with every reason that applies (most serious first).

    `since` is when the latest situation behind the level began, if every one of them is in the past (a passed
    date, a removal, a report); None when any is about now or what is coming. A fresh report on an old case
    makes it current again."""
    timing = Timing.of(timing)
    level, deciding, beside = _reasons(state, now, timing)
    onsets = [since for _, since in deciding]
    return Risk(level, [words for words, _ in deciding + beside], None if None in onsets else max(onsets))


NEVER = "9999"  # sorts after every RFC 3339 time: "nothing is coming" as a next date, "never" as a deadline


@dataclass(frozen=True)
class ListPlace:
    """Where a case sorts in the case list at `now` (most urgent first, current crises before old ones of the same
    level, then the most pressing date), and until when that holds. The list query orders stored places and
    re-assesses only the cases whose place has lapsed."""
    rank: int  # Risk.rank
    current: bool  # not a crisis older than the history horizon
    next_at: str  # the date a passed one still counts for, else the first upcoming dated item, else NEVER
    valid_until: str  # nothing above can change before this time; NEVER if it never changes

    @property
    def sort(self) -> int:
        return -(2 * self.rank + self.current)

    def order(self, case_id: str) -> tuple[int, str, str]:
        """The list's sort key, as the stored columns list_sort, list_next_at and case_id give it."""
        return self.sort, self.next_at, case_id


def sorts_of(level: str) -> tuple[int, int]:
    """The stored list_sort values of a risk level (its old crises, its current ones)."""
    rank = LEVELS.index(level)
    return -2 * rank, -2 * rank - 1


def passed_dates(state: CaseState, now: datetime, timing: Timing) -> list[Item]:
    """Dates passed with no outcome recorded that still count, most recent first: a removal's until its outcome
    is recorded, a hearing's or deadline's for `outcome_watch`."""
    return [i for i in overdue(state, now) if i["kind"] == "removal"] + _watched(state, now, timing)


def list_place(state: CaseState, now: datetime, timing: Timing | timedelta = Timing()) -> ListPlace:
    timing = Timing.of(timing)
    risk = assess(state, now, timing)
    passed = passed_dates(state, now, timing)
    coming = upcoming(state, now)
    next_at = passed[0]["at"] if passed else coming[0]["at"] if coming else NEVER
    changes = _changes_from(state, now, timing)
    return ListPlace(risk.rank, not risk.chronic(now, timing.history_horizon), next_at,
                     iso(changes) if changes is not None else NEVER)


def _changes_from(state: CaseState, now: datetime, timing: Timing) -> datetime | None:
    """The first instant at or after `now` at which a rule of `assess`, `upcoming` or `list_place` that reads the
    time can flip: a dated item passing or coming within SOON, a removal window closing, contact becoming overdue,
    a passed date's watch ending, a situation growing older than the history horizon."""
    instants: list[datetime] = []
    horizon = timing.history_horizon
    for item in dated_items(state):
        at = parse_iso(item["at"])
        instants += [at, at - SOON]
    if state.removal:  # a window closing, whether or not its outcome is awaited (a closed case's is not)
        instants.append(parse_iso(removal_end(state.removal)))
    for item in awaiting_outcome(state):
        at = parse_iso(item["at"])
        instants += [at, at + timing.outcome_watch, at + horizon]
    if state.removed:
        at = parse_iso(state.removed["at"])
        instants += [at + timing.contact_overdue_after, at + horizon]
    for since in (state.whereabouts_unknown_since, state.ill_treatment_at, state.deceased_at):
        if since:
            instants.append(parse_iso(since) + horizon)
    return min((t for t in instants if t >= now), default=None)
