"""Secret calendar addresses: made once and shown once, revoked by their owner or an admin, and the feed each one
serves, of the cases its owner may see at the moment of the fetch."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from events.clock import Clock
from events.i18n import Said, language, phrase
from events.utc import iso
from notifications.reminders import offsets_for, subscription_offsets
from notifications.tables import subscriptions

from .access import Principal
from .calendar_feed import FeedCase, build_calendar
from .calendar_repository import CalendarLinkRepository
from .cases import CaseService
from .errors import Conflict, NotFound
from .keys import KeyService
from .people import PeopleService


# Live addresses one person or key may hold: each is rate limited on its own, so without a bound one insider could
# make the feed (every visible case, names decrypted) be built as often as they like, and fill the table.
MAX_LINKS_PER_OWNER = 20


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CalendarLink:
    id: str
    url: str


@dataclass(frozen=True)
class Opened:
    """A live link and its owner as they are now (role and team read again at each fetch)."""
    link: Any
    owner: Principal


class CalendarLinks:
    def __init__(self, engine: Engine, clock: Clock, public_url: str, keys: KeyService, people: PeopleService,
                 cases: CaseService, repository: CalendarLinkRepository | None = None):
        self.engine, self.clock, self.public_url = engine, clock, public_url.rstrip("/")
        self.keys, self.people, self.cases = keys, people, cases
        self.repository = repository or CalendarLinkRepository(engine)

    def create(self, who: Principal, include_names: bool = False, lang: str | None = None) -> CalendarLink:
        """A new link for the caller; the URL holds the only copy of its token. Conflict past MAX_LINKS_PER_OWNER."""
        if sum(1 for r in self.repository.of_owner(who.actor) if r.revoked_at is None) >= MAX_LINKS_PER_OWNER:
            raise Conflict(Said(phrase("You have %(n)s calendar addresses already; revoke one before making another.",
                                       n=MAX_LINKS_PER_OWNER)))
        token = secrets.token_urlsafe(32)
        link_id = str(uuid.uuid4())
        self.repository.add({"id": link_id, "token_hash": token_hash(token), "owner": who.actor,
                             "created_at": self.clock.now(), "include_names": include_names,
                             "language": language(lang)})
        return CalendarLink(link_id, f"{self.public_url}/calendar/{token}.ics")

    def list(self, who: Principal) -> list[dict[str, Any]]:
        """The caller's own links, without their tokens (those are not kept)."""
        return [{"id": r.id, "created_at": iso(r.created_at), "revoked_at": iso(r.revoked_at),
                 "include_names": r.include_names, "language": r.language}
                for r in self.repository.of_owner(who.actor)]

    def revoke(self, who: Principal, link_id: str) -> None:
        """Only its owner or an admin may revoke a link; to anyone else it does not exist."""
        row = self.repository.get(link_id)
        if row is None or not (row.owner == who.actor or who.is_admin) or \
                not self.repository.revoke(link_id, self.clock.now()):
            raise NotFound("calendar link", link_id)

    def open(self, token: str) -> Opened:
        """The link behind a token and its owner, if both are still good; else NotFound, saying nothing more."""
        digest = token_hash(token)
        row = self.repository.by_hash(digest)
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            raise NotFound("calendar link", "")
        owner = self._owner(row.owner)
        if owner is None:  # a disabled person, a revoked key
            raise NotFound("calendar link", "")
        return Opened(row, owner)

    def _owner(self, actor: str) -> Principal | None:
        kind, _, owner_id = actor.partition(":")
        if kind == "person":
            return self.people.person(owner_id)
        if kind == "key":
            return self.keys.principal(owner_id)
        return None

    def feed(self, opened: Opened) -> bytes:
        """The iCalendar feed of the owner's visible cases, as of now."""
        who, link = opened.owner, opened.link
        names = link.include_names and who.sees_personal_data
        rows = self.cases.visible_rows(who)
        people = self.cases.people_of(who, [(r.case_id, r.state) for r in rows]) if names else {}
        cases = [FeedCase(r.case_id, r.version, r.updated_at, r.state,
                          (people.get(r.case_id) or {}).get("name") if names else None) for r in rows]
        return build_calendar(cases, self.clock.now(), self._offsets(who.team), calendar_id=link.id,
                              case_url=self.public_url + "/cases/{case_id}", lang=link.language)

    def _offsets(self, team: str) -> list[timedelta]:
        """The default reminder offsets and those of the owner's own team's subscriptions (no other team's)."""
        query = select(subscriptions.c.id, subscriptions.c.reminders, subscriptions.c.team,
                       subscriptions.c.all_teams).where(subscriptions.c.team == team,
                                                        subscriptions.c.deleted_at.is_(None),
                                                        subscriptions.c.disabled_at.is_(None))
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query)]
        return offsets_for(rows, subscription_offsets(None, rows), [team])  # type: ignore[arg-type]
