"""Lockout notices by email: each account that failed sign-ins locked is told to every admin person with an email
address, once, by the scheduler (the lockout itself is in the database, so a notice survives a restart)."""
from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from events.clock import Clock
from events.i18n import DEFAULT, Moment, phrase, render
from notifications.channels.email import SmtpSettings, _send_blocking

from .people_repository import PeopleRepository

log = logging.getLogger("vigil.people")
GIVE_UP_AFTER = timedelta(days=1)  # an SMTP server down this long: the dashboard entry alone remains


def notice(person, admin_email: str, sender: str, public_url: str, lang: str = DEFAULT) -> EmailMessage:
    """The email to one admin, in their dashboard's language (English if they never signed in)."""
    settings_url = public_url.rstrip("/") + "/settings"
    email = EmailMessage()
    email["From"], email["To"] = sender, admin_email
    email["Subject"] = render(phrase("Vigil: the account of %(name)s is locked", name=person.name), lang)
    email.set_content(render(phrase(
        "The account of %(name)s (%(role)s, team %(team)s) was locked at %(at)s after %(n)s failed sign-ins. "
        "If this was not them, someone may be guessing their password. The addresses the attempts came from are "
        "shown to admins in Vigil's settings, where you can also unlock the account: %(url)s",
        name=person.name, role=person.role, team=person.team, at=Moment(person.locked_at), n=person.failures,
        url=settings_url), lang) + "\n")
    return email


class LockoutNotices:
    def __init__(self, repository: PeopleRepository, smtp: SmtpSettings, clock: Clock, public_url: str):
        self.repository, self.smtp, self.clock, self.public_url = repository, smtp, clock, public_url

    def run(self) -> None:
        """Send each pending notice; one the SMTP server refuses now is tried again at the next run."""
        now = self.clock.now()
        for person in self.repository.locked_without_notice():
            to = [a for a in self.repository.admins_to_tell() if a.email]
            if self.smtp.host and to:
                try:
                    for admin in to:
                        _send_blocking(notice(person, admin.email, self.smtp.sender, self.public_url,
                                              admin.language or DEFAULT), self.smtp)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("lockout notice for person %s not sent: %r", person.id, exc)
                    if now - person.locked_at < GIVE_UP_AFTER:
                        continue
            self.repository.notice_sent(person.id, person.locked_at, now)
