"""Personal accounts: invitations, enrollment (password, TOTP, recovery codes), sign-in in two steps with growing
delays per account and address and a lockout, disabling; the SQL is the repository's, the factors are service/passwords.py and second_factor.py."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from events.clock import Clock
from events.i18n import Said, offered, phrase
from events.personal_data import PersonalDataCipher
from events.utc import iso

from . import second_factor
from .access import ROLES, Principal
from .errors import Conflict, InputError, NotFound
from .passwords import hash_password, password_matches, password_problem
from .people_repository import PeopleRepository
from .signin_throttle import (
    LOCKOUT_AFTER, SigninThrottle, account_delay, account_subject, address_subject, lock_in_force, seconds_left,
)

log = logging.getLogger("vigil.people")
INVITATION_LIFETIME = timedelta(hours=72)
STEP_LIFETIME = timedelta(minutes=5)  # between a right password and the second factor
STEP_TRIES = 3  # wrong codes before the half-signed-in state is dropped and the password must be given again
SECRET_CONTEXT = "person-totp:"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _usable(row: Any) -> bool:
    return row.enrolled_at is not None and row.disabled_at is None


@dataclass(frozen=True)
class Invitation:
    id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Enrollment:
    """An invitation that may still be followed, and the person it is creating (once a password is chosen)."""
    invitation: Any
    person: Any | None


class InvitationGone(Exception):
    """The invitation is unknown, used up or expired; the message says which, for the person following it."""


class StepGone(Exception):
    """No half-signed-in state behind this browser's cookie (never given, expired, used up): start again."""


class SignInRefused(Exception):
    """Wrong account, password or code: one answer for all three. `retry_after` when the account must wait."""

    def __init__(self, retry_after: int | None = None):
        super().__init__("refused")
        self.retry_after = retry_after


def principal_of(row: Any) -> Principal:
    return Principal(row.id, row.name, row.role, row.team, kind="person")


class PeopleService:
    def __init__(self, engine: Engine, clock: Clock, public_url: str, cipher: PersonalDataCipher | None = None,
                 repository: PeopleRepository | None = None,
                 on_lockout: Callable[[Principal, str | None], None] | None = None, lock_after: int = LOCKOUT_AFTER):
        self.clock, self.public_url, self.cipher = clock, public_url.rstrip("/"), cipher
        self.lock_after = lock_after  # failed sign-ins that lock an account (VIGIL_SIGNIN_LOCK_AFTER)
        self.repository = repository or PeopleRepository(engine)
        self.throttle = SigninThrottle(engine, clock)
        self.on_lockout = on_lockout

    # ---- invitations ----
    def invite(self, by: Principal, role: str, team: str, name: str, email: str | None) -> Invitation:
        if role not in ROLES:
            raise InputError([{"loc": ["body", "role"], "msg": f"must be one of {', '.join(ROLES)}",
                               "type": "value_error"}])
        if self.repository.name_taken(name, email):
            raise Conflict(Said(phrase("a person with this name or email already exists")))
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        invitation_id = str(uuid.uuid4())
        expires = now + INVITATION_LIFETIME
        self.repository.add_invitation({
            "id": invitation_id, "token_hash": token_hash(token), "role": role, "team": team, "name": name,
            "email": email, "created_at": now, "created_by": by.actor, "expires_at": expires})
        return Invitation(invitation_id, f"{self.public_url}/welcome/{token}", expires)

    def enrollment(self, token: str) -> Enrollment:
        """The invitation behind a link, if it may still be followed; else InvitationGone saying why."""
        row = self.repository.invitation(token_hash(token)) if token else None
        if row is None:
            raise InvitationGone(Said(phrase("This invitation link is not valid. Ask your admin for a new one.")))
        if row.used_at is not None:
            raise InvitationGone(Said(phrase("This invitation has been used already. Sign in, or ask your admin for a new one.")))
        if row.expires_at <= self.clock.now():
            raise InvitationGone(Said(phrase("This invitation has expired. Ask your admin for a new one.")))
        return Enrollment(row, self.repository.person(row.person_id) if row.person_id else None)

    def choose_password(self, token: str, password: str, confirm: str) -> Enrollment:
        """Step one: the password (checked, hashed) and a new TOTP secret, for a person still mid-enrollment."""
        found = self.enrollment(token)
        inv = found.invitation
        problem = password_problem(password, inv.name, inv.email)
        if problem is None and password != confirm:
            raise InputError([{"loc": ["body", "confirm"], "msg": "the two passwords differ", "type": "value_error"}])
        if problem:
            raise InputError([{"loc": ["body", "password"], "msg": problem, "type": "value_error"}])
        now = self.clock.now()
        person_id = inv.person_id or str(uuid.uuid4())
        sealed = self._cipher().seal_secret(second_factor.new_secret(), SECRET_CONTEXT + person_id)
        values = {"password_hash": hash_password(password), "totp_secret": sealed, "totp_step": None}
        if not inv.person_id:
            values.update(id=person_id, name=inv.name, email=inv.email, role=inv.role, team=inv.team,
                          recovery_codes="[]", failures=0, created_at=now, created_by=inv.created_by)
        try:
            self.repository.start_enrollment(inv, values)
        except IntegrityError:
            raise Conflict(Said(phrase("a person with this name or email already exists"))) from None
        return self.enrollment(token)

    def totp_setup(self, found: Enrollment) -> tuple[str, str]:
        """The person's TOTP secret and its QR code (SVG), to be shown while they enroll."""
        secret = self._secret(found.person)
        return secret, second_factor.qr_svg(second_factor.provisioning_uri(secret, found.person.name))

    def confirm_totp(self, token: str, code: str) -> list[str]:
        """Step two: one good code finishes the enrollment; returns the ten recovery codes, shown this once."""
        found = self.enrollment(token)
        if found.person is None:
            raise Conflict(Said(phrase("choose a password first")))
        step = second_factor.matching_step(self._secret(found.person), code, self.clock.now(), None)
        if step is None:
            raise InputError([{"loc": ["body", "code"], "msg": "this code is not the one your app shows now",
                               "type": "value_error"}])
        return self._finish(found, step)

    def finish_with_passkey(self, token: str, has_passkey: Callable[[str], bool]) -> list[str]:
        """Step two with a passkey instead of an app: once one is registered, the enrollment is finished."""
        found = self.enrollment(token)
        if found.person is None:
            raise Conflict(Said(phrase("choose a password first")))
        if not has_passkey(found.person.id):
            raise InputError([{"loc": ["body", "code"], "msg": "no passkey was added; add one, or enter a code",
                               "type": "value_error"}])
        return self._finish(found, None)

    def _finish(self, found: Enrollment, step: int | None) -> list[str]:
        codes = second_factor.new_recovery_codes()
        if not self.repository.finish_enrollment(found.invitation.id, found.person.id, step,
                                                 [second_factor.recovery_hash(c) for c in codes], self.clock.now()):
            raise InvitationGone(Said(phrase("This invitation has been used already. Sign in, or ask your admin for a new one.")))
        return codes

    # ---- signing in: the password first, then the second factor ----
    def password_step(self, account: str, password: str, client: str | None) -> str:
        """The id of the person whose account and password these are, if they may sign in and try now; else
        SignInRefused (an unknown account costs the same hashing and gets the same answer and delays)."""
        row = self.repository.by_account(account) if account.strip() else None
        unknown = None if row is not None else account_subject(account)
        wait = self._wait(row, unknown, client)
        if wait is not None:
            raise SignInRefused(wait)
        good = password_matches(row.password_hash if row is not None else None, password)
        if good and row is not None and _usable(row):
            return row.id
        self._failed(row, unknown, client)
        raise SignInRefused()

    def start_step(self, person_id: str, next_path: str, timezone: str) -> str:
        """The half-signed-in state after a right password; returns the token for the browser's cookie."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        self.repository.add_step(token_hash(token), person_id, next_path[:300], timezone, now, now + STEP_LIFETIME)
        return token

    def step_of(self, token: str | None) -> Any:
        """The live half-signed-in state behind a cookie, or None."""
        if not token:
            return None
        step = self.repository.step(token_hash(token), self.clock.now())
        return step if step is not None and self.may_sign_in(step.person_id) is not None else None

    def code_step(self, token: str | None, code: str, client: str | None) -> tuple[Principal, str, str]:
        """Finish a sign-in with a TOTP or recovery code: (the person, where to go, the time zone). StepGone if the
        half-signed-in state is unknown, expired or used up; SignInRefused if the code is wrong or they must wait."""
        step = self.step_of(token)
        if step is None:
            raise StepGone()
        row = self.repository.person(step.person_id)
        wait = self._wait(row, None, client)
        if wait is not None:
            raise SignInRefused(wait)
        now = self.clock.now()
        step_no = used = None
        if row.totp_secret:  # none for a person who enrolled a passkey instead: recovery codes only here
            step_no = second_factor.matching_step(self._secret(row), code, now, row.totp_step)
        if step_no is None:
            folded = second_factor.recovery_hash(code)
            used = folded if folded in json.loads(row.recovery_codes) else None
        if (step_no is not None or used is not None) and self.repository.record_success(row.id, step_no, None, used):
            self.repository.end_step(step.id_hash)
            return principal_of(row), step.next_path, step.timezone
        self._failed(row, None, client)
        if self.repository.step_failed(step.id_hash) >= STEP_TRIES:
            self.repository.end_step(step.id_hash)
        raise SignInRefused()

    def passkey_wait(self, person_id: str, client: str | None) -> int | None:
        """Seconds the person (locked out, or after failures) or the address must still wait before a passkey
        may sign them in; None if it may now."""
        return self._wait(self.repository.person(person_id), None, client)

    def passkey_signed_in(self, person_id: str) -> None:
        self.repository.record_success(person_id, None, None, None)

    def passkey_failed(self, client: str | None) -> None:
        """A passkey that did not verify: it names no account we may trust, so only its address is counted."""
        self.throttle.failed(address_subject(client))

    def _wait(self, row: Any, unknown: str | None, client: str | None) -> int | None:
        now = self.clock.now()
        waits = [self.throttle.wait(address_subject(client)),
                 seconds_left(row.failed_at, account_delay(row.failures, self.lock_after), now) if row is not None
                 else self.throttle.wait(unknown, partial(account_delay, lock_after=self.lock_after))]
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None

    def _failed(self, row: Any, unknown: str | None, client: str | None) -> None:
        self.throttle.failed(address_subject(client))
        if row is None:
            self.throttle.failed(unknown)
            return
        failures, locked = self.repository.record_failure(row.id, self.clock.now(), client, self.lock_after)
        if locked:
            log.warning("sign-in locked out after %d failures: person %s (team %s), last from %s",
                        failures, row.id, row.team, client)
            if self.on_lockout:
                self.on_lockout(principal_of(row), client)

    def person(self, person_id: str) -> Principal | None:
        """The person of a session or a link, if they may still act (enrolled, not disabled, not locked out)."""
        row = self.repository.person(person_id)
        if row is None or not _usable(row) or lock_in_force(row.locked_at, row.failed_at, self.clock.now()):
            return None
        return principal_of(row)

    def may_sign_in(self, person_id: str) -> Principal | None:
        """The person, if enrolled and not disabled: one locked out may still be answered with the wait left."""
        row = self.repository.person(person_id)
        return principal_of(row) if row is not None and _usable(row) else None

    # ---- admin ----
    def list(self) -> list[dict[str, Any]]:
        """Every person, without a secret."""
        return [{"id": r.id, "name": r.name, "email": r.email, "role": r.role, "team": r.team,
                 "enrolled": r.enrolled_at is not None, "disabled": r.disabled_at is not None,
                 "created_at": iso(r.created_at), "created_by": r.created_by,
                 "locked_at": iso(r.locked_at) if r.locked_at else None, "failures": r.failures,
                 "failed_from": json.loads(r.failed_from or "[]")} for r in self.repository.all()]

    def remember_language(self, person_id: str, lang: str) -> None:
        """The language a person's dashboard is in (at sign-in, or picked), for what Vigil emails them."""
        if lang in offered():
            self.repository.set_language(person_id, lang)

    def unlock(self, person_id: str) -> None:
        """An admin lifts a lockout: the failures are forgotten, the person may sign in at once."""
        if not self.repository.unlock(person_id):
            raise NotFound("person", person_id)

    def disable(self, person_id: str) -> None:
        if not self.repository.disable(person_id, self.clock.now()):
            raise NotFound("person", person_id)

    def actor_names(self, team: str | None) -> dict[str, str]:
        """How people show as authors in a history, as KeyService.actor_names does for keys."""
        return {f"person:{r.id}": f"{r.name} ({r.role}, {r.team})" if team is None or r.team == team
                else "a person of another team" for r in self.repository.all()}

    def _cipher(self) -> PersonalDataCipher:
        if self.cipher is None:
            raise RuntimeError("enrolling a person needs the master key")
        return self.cipher

    def _secret(self, row: Any) -> str:
        return self._cipher().open_secret(row.totp_secret, SECRET_CONTEXT + row.id)
