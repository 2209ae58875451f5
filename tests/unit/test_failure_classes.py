"""Failure classes (pure): which answers are retried, which fail for good, and what a bug while preparing becomes."""
from __future__ import annotations

import smtplib
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import OperationalError

from notifications.channels.base import Delivered, Failed, Retry, classify, unprepared
from notifications.channels.email import classify_smtp

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_every_2xx_is_delivered(status):
    assert classify(status, {}, NOW) == Delivered(status)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408, 429])
def test_5xx_408_and_429_are_retried(status):
    assert classify(status, {}, NOW) == Retry(f"HTTP {status}", status, None)


def test_a_retried_answer_keeps_its_retry_after():
    assert classify(429, {"retry-after": "120"}, NOW).after == timedelta(seconds=120)
    assert classify(503, {"retry-after": "Sun, 01 Mar 2026 13:00:00 GMT"}, NOW).after == timedelta(hours=1)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 415, 422, 451, 499])
def test_other_4xx_fail_for_good_with_the_reason(status):
    outcome = classify(status, {"retry-after": "60"}, NOW)
    assert outcome == Failed(f"HTTP {status}: refused by the receiver; not retried", status)
    assert not outcome.disable_subscription and not outcome.internal


@pytest.mark.parametrize("status", [100, 301, 302, 307, 308])
def test_redirects_and_other_answers_fail_for_good(status):
    outcome = classify(status, {}, NOW)
    assert isinstance(outcome, Failed) and outcome.status_code == status
    assert outcome.error.startswith(f"HTTP {status}: ") and outcome.error.endswith("not retried")


def test_410_fails_and_disables_the_subscription():
    outcome = classify(410, {}, NOW)
    assert isinstance(outcome, Failed) and outcome.disable_subscription and outcome.status_code == 410


def test_teams_may_count_only_some_codes_as_accepted():
    assert classify(202, {}, NOW, accepted=range(202, 203)) == Delivered(202)
    assert isinstance(classify(200, {}, NOW, accepted=range(202, 203)), Failed)


def _refused(*codes: int) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({f"r{i}@ngo.example": (code, b"no") for i, code in enumerate(codes)})


def test_recipients_all_refused_for_good_fail_with_the_codes():
    assert classify_smtp(_refused(550, 553)) == Failed("SMTP refused every recipient (550, 553); not retried", 553)


def test_recipients_refused_for_now_are_retried():
    assert classify_smtp(_refused(450, 550)) == Retry("SMTP refused every recipient (450, 550)", 550)
    assert isinstance(classify_smtp(_refused(421)), Retry)


@pytest.mark.parametrize("exc", [smtplib.SMTPDataError(554, b"message rejected as spam"),
                                 smtplib.SMTPSenderRefused(553, b"sender not allowed", "vigil@ngo.example"),
                                 smtplib.SMTPResponseException(552, b"too big")])
def test_a_5xx_refusal_of_the_message_fails_for_good(exc):
    outcome = classify_smtp(exc)
    assert isinstance(outcome, Failed) and outcome.status_code == exc.smtp_code
    assert outcome.error == f"SMTP {exc.smtp_code}: {exc.smtp_error.decode()}; not retried"


@pytest.mark.parametrize("exc", [smtplib.SMTPDataError(451, b"try later"),
                                 smtplib.SMTPSenderRefused(450, b"greylisted", "vigil@ngo.example")])
def test_a_4xx_refusal_is_retried(exc):
    assert classify_smtp(exc) == Retry(f"SMTP {exc.smtp_code}: {exc.smtp_error.decode()}", exc.smtp_code)


@pytest.mark.parametrize("exc", [smtplib.SMTPAuthenticationError(535, b"bad credentials"),
                                 smtplib.SMTPConnectError(554, b"no service for you"),
                                 smtplib.SMTPHeloError(501, b"bad helo")])
def test_our_servers_set_up_is_retried_whatever_its_code(exc):
    """Fixing the password or the server then delivers every waiting email; none is left dead."""
    assert isinstance(classify_smtp(exc), Retry)


@pytest.mark.parametrize("exc", [smtplib.SMTPServerDisconnected("gone"), ConnectionRefusedError(111, "refused"),
                                 TimeoutError("timed out"), smtplib.SMTPNotSupportedError("no STARTTLS")])
def test_network_errors_and_hang_ups_are_retried(exc):
    outcome = classify_smtp(exc)
    assert isinstance(outcome, Retry) and outcome.error.startswith(type(exc).__name__)


@pytest.mark.parametrize("exc", [OperationalError("SELECT 1", {}, Exception("server closed the connection")),
                                 sqlite3.OperationalError("database is locked"), ConnectionResetError(),
                                 OSError("disk")])
def test_an_outage_while_preparing_is_retried(exc):
    assert unprepared(exc) == Retry(f"outage while preparing: {type(exc).__name__}")


def test_a_psycopg_outage_while_preparing_is_retried():
    import psycopg

    assert isinstance(unprepared(psycopg.OperationalError("connection lost")), Retry)


@pytest.mark.parametrize("exc", [KeyError("name"), TypeError("bad"), ValueError("Jane Doe"), AttributeError("x")])
def test_a_bug_while_preparing_is_recorded_as_one_and_not_retried(exc):
    outcome = unprepared(exc)
    assert outcome == Failed(f"internal error: {type(exc).__name__}", internal=True)
    assert "Jane" not in outcome.error  # an exception's text may quote personal data: only its type is kept
