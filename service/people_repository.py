"""The people and invitations tables, and the sessions that belong to a person: the SQL of service/people.py."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from events.tables import invitations, people, signin_steps, web_sessions
from events.transactions import writing


class PeopleRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def name_taken(self, name: str, email: str | None) -> bool:
        """A person already has this name or email, or a live invitation names them."""
        who = [func.lower(people.c.name) == name.lower()]
        if email:
            who.append(func.lower(people.c.email) == email.lower())
        with self.engine.connect() as conn:
            return conn.execute(select(people.c.id).where(or_(*who))).first() is not None

    def add_invitation(self, values: dict[str, Any]) -> None:
        with writing(self.engine) as conn:
            conn.execute(insert(invitations).values(**values))

    def invitation(self, token_hash: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(invitations).where(invitations.c.token_hash == token_hash)).first()

    def start_enrollment(self, invitation: Any, person: dict[str, Any]) -> str:
        """Create (or, on a second try, replace) the person mid-enrollment an invitation leads to; returns the id."""
        with writing(self.engine) as conn:
            if invitation.person_id:
                conn.execute(update(people).where(people.c.id == invitation.person_id,
                                                  people.c.enrolled_at.is_(None)).values(**person))
                return invitation.person_id
            conn.execute(insert(people).values(**person))
            conn.execute(update(invitations).where(invitations.c.id == invitation.id)
                         .values(person_id=person["id"]))
            return person["id"]

    def finish_enrollment(self, invitation_id: str, person_id: str, step: int | None, recovery: list[str],
                          now: datetime) -> bool:
        """Mark the person enrolled and the invitation used, in one transaction; False if it was used meanwhile.
        With no TOTP step (a passkey was enrolled instead), the TOTP secret they were shown is dropped."""
        with writing(self.engine) as conn:
            used = conn.execute(update(invitations).where(invitations.c.id == invitation_id,
                                                          invitations.c.used_at.is_(None)).values(used_at=now))
            if used.rowcount != 1:
                return False
            conn.execute(update(people).where(people.c.id == person_id).values(
                enrolled_at=now, totp_step=step, recovery_codes=json.dumps(recovery),
                **({} if step is not None else {"totp_secret": None})))
        return True

    def person(self, person_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(people).where(people.c.id == person_id)).first()

    def by_account(self, account: str) -> Any:
        """The person whose name or email this is (either, case-insensitively)."""
        folded = account.strip().lower()
        with self.engine.connect() as conn:
            return conn.execute(select(people).where(or_(func.lower(people.c.name) == folded,
                                                         func.lower(people.c.email) == folded))).first()

    def record_failure(self, person_id: str, now: datetime, client: str | None, lockout_after: int) -> tuple[int, bool]:
        """Count one failed sign-in and its address; returns the count since the last good one, and whether this
        failure locked the account (it reached `lockout_after` and was not locked yet)."""
        with writing(self.engine) as conn:
            row = conn.execute(select(people.c.failures, people.c.locked_at, people.c.failed_from)
                               .where(people.c.id == person_id).with_for_update()).one()
            failures = row.failures + 1
            addresses = json.loads(row.failed_from or "[]")
            if client and client[:64] not in addresses:
                addresses = (addresses + [client[:64]])[-10:]  # the last ten addresses are enough to tell the admin
            values: dict[str, Any] = {"failures": failures, "failed_at": now, "failed_from": json.dumps(addresses)}
            locked = failures >= lockout_after and row.locked_at is None
            if locked:
                values.update(locked_at=now, lock_notice_at=None)
            conn.execute(update(people).where(people.c.id == person_id).values(**values))
        return failures, locked

    def unlock(self, person_id: str) -> bool:
        """Forget a person's failures and lockout; False if there is no such person."""
        with writing(self.engine) as conn:
            done = conn.execute(update(people).where(people.c.id == person_id).values(
                failures=0, failed_at=None, locked_at=None, failed_from=None, lock_notice_at=None))
        return done.rowcount == 1

    def locked_without_notice(self) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(select(people).where(people.c.locked_at.is_not(None),
                                                     people.c.lock_notice_at.is_(None))).all()

    def notice_sent(self, person_id: str, locked_at: datetime, now: datetime) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(people).where(people.c.id == person_id, people.c.locked_at == locked_at)
                         .values(lock_notice_at=now))

    def admins_to_tell(self) -> list[Any]:
        """The people who read lockout notices: enrolled, not disabled, admin (an admin's role spans every team)."""
        with self.engine.connect() as conn:
            return conn.execute(select(people.c.name, people.c.email, people.c.team, people.c.language).where(
                people.c.role == "admin", people.c.enrolled_at.is_not(None), people.c.disabled_at.is_(None))).all()

    # ---- the half-signed-in state between the password and the second factor ----
    def add_step(self, id_hash: str, person_id: str, next_path: str, timezone: str, now: datetime,
                 expires_at: datetime) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(signin_steps).where(signin_steps.c.expires_at <= now))
            conn.execute(insert(signin_steps).values(id_hash=id_hash, person_id=person_id, next_path=next_path,
                                                     timezone=timezone, failures=0, expires_at=expires_at))

    def step(self, id_hash: str, now: datetime) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(signin_steps).where(signin_steps.c.id_hash == id_hash,
                                                           signin_steps.c.expires_at > now)).first()

    def step_failed(self, id_hash: str) -> int:
        with writing(self.engine) as conn:
            conn.execute(update(signin_steps).where(signin_steps.c.id_hash == id_hash)
                         .values(failures=signin_steps.c.failures + 1))
            return conn.execute(select(signin_steps.c.failures)
                                .where(signin_steps.c.id_hash == id_hash)).scalar() or 0

    def end_step(self, id_hash: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(delete(signin_steps).where(signin_steps.c.id_hash == id_hash))

    def record_success(self, person_id: str, totp_step: int | None, recovery: list[str] | None,
                       used_recovery: str | None) -> bool:
        """Clear the failure count and use up the code presented; False if another sign-in used it first."""
        with writing(self.engine) as conn:
            row = conn.execute(select(people.c.totp_step, people.c.recovery_codes)
                               .where(people.c.id == person_id)).first()
            if totp_step is not None and row.totp_step is not None and totp_step <= row.totp_step:
                return False
            codes = json.loads(row.recovery_codes)
            if used_recovery is not None:
                if used_recovery not in codes:
                    return False
                codes.remove(used_recovery)
            values: dict[str, Any] = {"failures": 0, "failed_at": None, "recovery_codes": json.dumps(codes),
                                      "locked_at": None, "failed_from": None, "lock_notice_at": None}
            if totp_step is not None:
                values["totp_step"] = totp_step
            conn.execute(update(people).where(people.c.id == person_id).values(**values))
        return True

    def all(self) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(select(people).order_by(people.c.created_at)).all()

    def set_language(self, person_id: str, lang: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(update(people).where(people.c.id == person_id, people.c.language.is_distinct_from(lang))
                         .values(language=lang))

    def disable(self, person_id: str, now: datetime) -> bool:
        """Disable a person and end every session of theirs, at once and together; False if no such person."""
        with writing(self.engine) as conn:
            done = conn.execute(update(people).where(people.c.id == person_id, people.c.disabled_at.is_(None))
                                .values(disabled_at=now))
            conn.execute(delete(web_sessions).where(web_sessions.c.person_id == person_id))
            conn.execute(delete(signin_steps).where(signin_steps.c.person_id == person_id))
            if done.rowcount == 1:
                return True
            return conn.execute(select(people.c.id).where(people.c.id == person_id)).first() is not None
