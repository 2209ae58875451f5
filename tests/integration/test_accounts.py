"""People, not keys: invitation -> password -> TOTP -> sign-in, throttling and lockout, sessions, disabling, and
the dashboard's key sign-in switch (issue 18, "Accounts"). Codes are computed here with pyotp."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from events.tables import access_log, events, invitations, people
from service.access import SYSTEM
from service.app import create_app
from service.signin_throttle import FREE_FAILURES, LOCKOUT_AFTER
from service.schemas import CaseIn

from ..conftest import ADMIN_KEY
from .helpers.pages import csrf_of

PASSWORD = "violet tractor sings at dawn"


def invite(api, name="Aziza Karimova", role="editor", team="lyon", email=None) -> str:
    answer = api.post("/v1/users/invitations", json={"role": role, "team": team, "name": name,
                                                       **({"email": email} if email else {})})
    assert answer.status_code == 201, answer.text
    assert set(answer.json()) == {"id", "url", "expires_at"}
    return answer.json()["url"].split("http://127.0.0.1:8000", 1)[1]


def enroll(browser, clock, path: str, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Follow an invitation to the end; returns the TOTP secret and the recovery codes shown."""
    assert browser.get(path).status_code == 200
    shown = browser.post(path, data={"password": password, "confirm": password})
    assert shown.status_code == 200, shown.text
    assert "<svg" in shown.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text).group(1)
    done = browser.post(path + "/totp", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def password_step(browser, account: str, password: str, next_path: str = "/"):
    form = browser.get("/signin")
    return browser.post("/signin", data={"account": account, "password": password, "api_key": "",
                                         "timezone": "UTC", "next": next_path, "csrf_token": csrf_of(form.text)})


def code_step(browser, code: str):
    form = browser.get("/signin/code")
    assert form.status_code == 200, form.status_code
    return browser.post("/signin/code", data={"code": code, "csrf_token": csrf_of(form.text)})


def sign_in(browser, account: str, password: str, code: str):
    """Both steps; the answer of the first if it refused, else the second's."""
    first = password_step(browser, account, password)
    if first.status_code != 303:
        return first
    assert first.headers["location"] == "/signin/code"
    return code_step(browser, code)


def next_code(secret: str, clock) -> str:
    """A code of a later time step (a code is good only once)."""
    clock.advance(timedelta(seconds=31))
    return pyotp.TOTP(secret).at(clock.now())


def test_invited_person_enrolls_signs_in_and_their_event_names_them(api, browser, box, clock):
    path = invite(api)
    secret, _ = enroll(browser, clock, path)
    signed = sign_in(browser, "aziza karimova", PASSWORD, next_code(secret, clock))
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    person_id = box.engine.connect().execute(select(people.c.id)).scalar_one()
    case_id = api.post("/v1/cases", json={"person": {"name": "Dana Example"}, "country": "TR",
                                          "teams": ["lyon"]}).json()["id"]
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200
    appended = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(page.text), "type": "NoteAdded", "text": "Called the lawyer.", "occurred_at": "2026-03-01T10:00"})
    assert appended.status_code == 303, appended.text
    with box.engine.connect() as conn:
        actors = conn.execute(select(events.c.actor).where(events.c.stream_id == case_id)
                              .order_by(events.c.position)).scalars().all()
        read_by = conn.execute(select(access_log.c.actor).where(access_log.c.case_id == case_id)).scalars().all()
    assert actors[-1] == f"person:{person_id}"
    assert f"person:{person_id}" in read_by
    assert "Aziza Karimova (editor, lyon)" in browser.get(f"/cases/{case_id}").text


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(api, browser, box, clock):
    enroll(browser, clock, invite(api))
    wrong_password = password_step(browser, "Aziza Karimova", "not the password at all")
    unknown = password_step(browser, "Nobody Here", PASSWORD)
    assert wrong_password.status_code == unknown.status_code == 401
    said = {re.search(r'id="signin-error">([^<]+)<', r.text).group(1) for r in (wrong_password, unknown)}
    assert said == {"The account or password is not right. Please try again."}
    assert "vigil_session" not in browser.cookies and "vigil_signin_step" not in browser.cookies


def test_the_second_step_is_bound_to_its_browser_short_lived_and_good_for_nothing_else(api, box, clock):
    with TestClient(create_app(box), follow_redirects=False) as browser, \
            TestClient(create_app(box), follow_redirects=False) as other:
        secret, _ = enroll(browser, clock, invite(api))
        assert password_step(browser, "Aziza Karimova", PASSWORD, "/alerts").status_code == 303
        assert browser.get("/settings").status_code == 303  # half signed in: no page but the code's
        assert other.get("/signin/code").status_code == 303  # another browser has no such step
        assert other.post("/signin/code", data={"code": "000000", "csrf_token": csrf_of(other.get("/signin").text)}
                          ).status_code in (401, 403)
        wrong = code_step(browser, "000000")
        assert wrong.status_code == 401 and "That code is not right" in wrong.text
        clock.advance(timedelta(minutes=5, seconds=1))
        late = code_step(browser, pyotp.TOTP(secret).at(clock.now())) if browser.get("/signin/code").status_code \
            == 200 else None
        assert late is None  # the step expired: the code page sends the browser back to the password
        assert password_step(browser, "Aziza Karimova", PASSWORD, "/alerts").status_code == 303
        done = code_step(browser, pyotp.TOTP(secret).at(clock.now()))
        assert done.status_code == 303 and done.headers["location"] == "/alerts"
        assert browser.get("/alerts").status_code == 200


def test_three_wrong_codes_drop_the_half_signed_in_state(api, browser, box, clock):
    secret, _ = enroll(browser, clock, invite(api))
    assert password_step(browser, "Aziza Karimova", PASSWORD).status_code == 303
    for _ in range(2):
        assert code_step(browser, "000000").status_code == 401
    form = browser.get("/signin/code")
    third = browser.post("/signin/code", data={"code": "000000", "csrf_token": csrf_of(form.text)})
    assert third.status_code == 401 and "Please start again" in third.text
    assert browser.get("/signin/code").status_code == 303


def test_a_totp_code_and_a_recovery_code_each_work_once(api, browser, box, clock):
    secret, codes = enroll(browser, clock, invite(api, email="aziza@example.org"))
    code = next_code(secret, clock)
    assert sign_in(browser, "aziza@example.org", PASSWORD, code).status_code == 303
    assert sign_in(browser, "aziza@example.org", PASSWORD, code).status_code == 401  # replayed
    assert sign_in(browser, "Aziza Karimova", PASSWORD, codes[3].upper()).status_code == 303
    assert sign_in(browser, "Aziza Karimova", PASSWORD, codes[3]).status_code == 401


def test_failures_grow_delays_per_account_and_the_same_for_an_unknown_one(api, browser, box, clock):
    enroll(browser, clock, invite(api))
    for account in ("Aziza Karimova", "Nobody Here"):
        for _ in range(FREE_FAILURES):
            assert password_step(browser, account, "wrong wrong wrong").status_code == 401
        refused = password_step(browser, account, PASSWORD)  # even the right password must wait, and is not tried
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        clock.advance(timedelta(seconds=1))
        assert password_step(browser, account, "wrong wrong wrong").status_code == 401
        assert password_step(browser, account, PASSWORD).headers["Retry-After"] == "2"  # doubled
        clock.advance(timedelta(seconds=2))


def test_a_lockout_refuses_the_right_password_tells_the_admins_and_an_admin_unlocks(api, browser, box, clock):
    secret, _ = enroll(browser, clock, invite(api))
    person_id = box.engine.connect().execute(select(people.c.id)).scalar_one()
    for n in range(LOCKOUT_AFTER):
        clock.advance(timedelta(minutes=16))
        if n % 2:
            assert password_step(browser, "Aziza Karimova", "wrong wrong wrong").status_code == 401
        else:  # a wrong code in the second step counts as much as a wrong password
            assert password_step(browser, "Aziza Karimova", PASSWORD).status_code == 303
            assert code_step(browser, "000000").status_code == 401
    locked = password_step(browser, "Aziza Karimova", PASSWORD)
    assert locked.status_code == 429 and 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    with box.engine.connect() as conn:
        notices = conn.execute(select(access_log.c.actor).where(access_log.c.action == "lockout")).scalars().all()
        row = conn.execute(select(people.c.locked_at, people.c.failed_from)).one()
    assert notices == [f"person:{person_id}"] and row.locked_at is not None and "testclient" in row.failed_from
    listed = api.get("/v1/users").json()[0]
    assert listed["locked_at"] and listed["failures"] == LOCKOUT_AFTER and listed["failed_from"] == ["testclient"]
    assert api.post(f"/v1/users/{person_id}/unlock").status_code == 204
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
    assert box.engine.connect().execute(select(people.c.failures, people.c.locked_at)).one() == (0, None)


def test_a_lockout_ends_when_its_delay_has_passed(api, browser, box, clock):
    secret, _ = enroll(browser, clock, invite(api))
    for _ in range(LOCKOUT_AFTER):
        clock.advance(timedelta(minutes=16))
        assert password_step(browser, "Aziza Karimova", "wrong wrong wrong").status_code == 401
    clock.advance(timedelta(minutes=14))
    assert password_step(browser, "Aziza Karimova", PASSWORD).status_code == 429
    clock.advance(timedelta(minutes=1, seconds=1))
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303


def test_the_lockout_threshold_is_a_setting_kept_for_known_and_unknown_accounts_alike(settings, clock, engine):
    from service.container import build_container

    box = build_container(settings.model_copy(update={"signin_lock_after": 3}), clock=clock, engine=engine)
    with TestClient(create_app(box), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api, \
            TestClient(create_app(box), follow_redirects=False) as browser:
        secret, _ = enroll(browser, clock, invite(api))
        for account in ("Aziza Karimova", "Nobody At All"):
            for _ in range(3):  # no delay between them: the first failures never wait
                assert password_step(browser, account, "wrong wrong wrong").status_code == 401
            refused = password_step(browser, account, PASSWORD)
            assert refused.status_code == 429 and 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
        listed = api.get("/v1/users").json()[0]
        assert listed["locked_at"] and listed["failures"] == 3
        assert api.post(f"/v1/users/{listed['id']}/unlock").status_code == 204
        assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303


@pytest.mark.parametrize("value", ["2", "101", "ten", ""])
def test_a_lockout_threshold_out_of_range_is_refused_naming_it(monkeypatch, value):
    from pydantic import ValidationError

    from service.settings import Settings

    monkeypatch.setenv("VIGIL_SIGNIN_LOCK_AFTER", value)
    with pytest.raises(ValidationError, match="signin_lock_after"):
        Settings(_env_file=None)
    monkeypatch.setenv("VIGIL_SIGNIN_LOCK_AFTER", "3")
    assert Settings(_env_file=None).signin_lock_after == 3


def test_an_address_that_keeps_failing_waits_whatever_account_it_names(api, browser, box, clock):
    from service.signin_throttle import ADDRESS_FREE_FAILURES

    secret, _ = enroll(browser, clock, invite(api))
    for n in range(ADDRESS_FREE_FAILURES):
        assert password_step(browser, f"Guess {n}", "wrong wrong wrong").status_code == 401
    assert password_step(browser, "Aziza Karimova", PASSWORD).status_code == 429
    # Counted in the database: another process (here, another app over the same database) sees the same count.
    with TestClient(create_app(box), follow_redirects=False) as other:
        assert password_step(other, "Aziza Karimova", PASSWORD).status_code == 429
    clock.advance(timedelta(seconds=1))
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303


def test_a_disabled_person_is_thrown_out_at_once(api, browser, box, clock):
    secret, _ = enroll(browser, clock, invite(api))
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
    assert browser.get("/settings").status_code == 200
    listed = api.get("/v1/users").json()
    assert [p["name"] for p in listed] == ["Aziza Karimova"] and listed[0]["enrolled"]
    assert not {"password_hash", "totp_secret", "recovery_codes"} & set(listed[0])
    assert api.post(f"/v1/users/{listed[0]['id']}/disable").status_code == 204
    thrown_out = browser.get("/settings")
    assert thrown_out.status_code == 303 and thrown_out.headers["location"].startswith("/signin")
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 401
    assert api.post("/v1/users/no-such-person/disable").status_code == 404


def test_a_person_sees_and_ends_their_own_sessions(api, box, clock):
    secret, _ = enroll(TestClient(create_app(box), follow_redirects=False), clock, invite(api))
    with TestClient(create_app(box), follow_redirects=False) as phone, \
            TestClient(create_app(box), follow_redirects=False) as laptop:
        assert sign_in(phone, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        assert sign_in(laptop, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        settings = laptop.get("/settings").text
        sessions = re.findall(r'name="session" value="([0-9a-f]+)"', settings)
        assert len(sessions) == 2 and "(this one)" in settings
        rows = re.findall(r"<tr><td>.*?</tr>", settings, re.S)
        this = next(re.search(r'name="session" value="([0-9a-f]+)"', r).group(1) for r in rows if "(this one)" in r)
        other = next(s for s in sessions if s != this)
        ended = laptop.post("/settings/sessions/end", data={"csrf_token": csrf_of(settings), "session": other})
        assert ended.status_code == 303
        assert phone.get("/settings").status_code == 303  # the phone's session is gone
        assert laptop.get("/settings").status_code == 200


def test_an_expired_or_used_invitation_gets_a_clear_page_and_changes_nothing(api, browser, box, clock):
    used = invite(api)
    enroll(browser, clock, used)
    again = browser.get(used)
    assert again.status_code == 410 and "used already" in again.text
    assert browser.post(used, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 410
    late = invite(api, name="Timur Aliev")
    clock.advance(timedelta(hours=72, seconds=1))
    expired = browser.get(late)
    assert expired.status_code == 410 and "expired" in expired.text
    assert browser.post(late, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 410
    assert browser.get("/welcome/made-up-token").status_code == 410
    with box.engine.connect() as conn:
        assert conn.execute(select(people.c.name)).scalars().all() == ["Aziza Karimova"]
        assert conn.execute(select(invitations.c.person_id).where(invitations.c.name == "Timur Aliev")).scalar() is None


@pytest.mark.parametrize("password, said", [
    ("short pass", "at least 12 characters"),
    ("password1234", "most common"),
    ("aaaaaaaaaaaaaaaa", "most common"),
    ("aziza karimova", "your name"),
])
def test_weak_or_common_passwords_are_refused_naming_the_field(api, browser, box, password, said):
    path = invite(api)
    answer = browser.post(path, data={"password": password, "confirm": password})
    assert answer.status_code == 422
    assert re.search(r'id="err-password">[^<]*' + said, answer.text)
    assert box.engine.connect().execute(select(people.c.id)).first() is None


def test_mid_enrollment_a_person_cannot_sign_in_and_a_wrong_code_finishes_nothing(api, browser, box, clock):
    path = invite(api)
    shown = browser.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text).group(1)
    assert sign_in(browser, "Aziza Karimova", PASSWORD, pyotp.TOTP(secret).at(clock.now())).status_code == 401
    wrong = browser.post(path + "/totp", data={"code": "12345x"})
    assert wrong.status_code == 422 and 'id="err-code"' in wrong.text and secret in wrong.text
    with box.engine.connect() as conn:
        assert conn.execute(select(people.c.enrolled_at)).scalar_one() is None
        assert conn.execute(select(invitations.c.used_at)).scalar_one() is None


def test_invitations_need_an_admin_and_a_valid_body(api, box):
    from service.keys import KeyService

    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor")
    refused = api.post("/v1/users/invitations", json={"role": "editor", "team": "lyon", "name": "X"},
                       headers={"Authorization": f"Bearer {editor}"})
    assert refused.status_code == 403
    bad = api.post("/v1/users/invitations", json={"role": "boss", "team": "lyon", "name": "X"})
    assert bad.status_code == 422 and "role" in bad.text
    assert api.post("/v1/users/invitations", json={"role": "viewer", "team": "lyon", "name": "X",
                                                   "email": "not an email"}).status_code == 422
    invite(api, name="Same Name")
    assert api.post("/v1/users/invitations", json={"role": "viewer", "team": "lyon", "name": "X"}).status_code == 201


def test_the_dashboard_invites_a_person(api, browser, box):
    form = browser.get("/signin")
    browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/",
                                  "csrf_token": csrf_of(form.text)})
    settings = browser.get("/settings")
    made = browser.post("/settings/invitations", data={"csrf_token": csrf_of(settings.text), "name": "Leyla Y",
                                                       "role": "viewer", "team": "istanbul", "email": ""})
    assert made.status_code == 201 and "/welcome/" in made.text
    bad = browser.post("/settings/invitations", data={"csrf_token": csrf_of(settings.text), "name": "",
                                                      "role": "viewer", "team": "ist anbul", "email": ""})
    assert bad.status_code == 422 and 'id="err-team"' in bad.text and 'id="err-name"' in bad.text


def test_key_sign_in_to_the_dashboard_can_be_turned_off(api, box):
    box.settings.dashboard_key_signin = False
    with TestClient(create_app(box), follow_redirects=False) as browser:
        form = browser.get("/signin")
        assert 'name="api_key"' not in form.text
        refused = browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/",
                                                "csrf_token": csrf_of(form.text)})
        assert refused.status_code == 403 and "vigil_session" not in browser.cookies
        bearer = browser.get("/", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert bearer.status_code == 303  # sent to sign in
    assert api.get("/v1/cases").status_code == 200  # the API keeps its keys


def test_vigil_users_invite_list_and_disable(box, db_url, monkeypatch):
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    runner = CliRunner()
    made = runner.invoke(app, ["users", "invite", "--role", "viewer", "--team", "lyon", "--name", "Ilya P"])
    assert made.exit_code == 0, made.output
    assert made.stdout.strip().splitlines()[-1].startswith("http://127.0.0.1:8000/welcome/")
    assert box.people.enrollment(made.stdout.strip().splitlines()[-1].rsplit("/", 1)[1]).invitation.name == "Ilya P"
    bad = runner.invoke(app, ["users", "invite", "--role", "boss", "--team", "lyon", "--name", "X"])
    assert bad.exit_code != 0 and "--role" in bad.output
    assert runner.invoke(app, ["users", "disable", "nobody"]).exit_code == 1


def test_the_demo_prints_an_invitation_for_a_first_admin_person_and_serves_without_key_sign_in(
        box, db_url, settings, tmp_path, monkeypatch):
    """The demo's database holds a case already, so it loads nothing; its server is captured, not started."""
    from typer.testing import CliRunner

    import service.cli as cli
    from tests.e2e.serving import free_port

    box.cases.open_case(SYSTEM, CaseIn(person={"name": "Demo Person"}, country="FR"))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    served = []
    monkeypatch.setattr(cli, "_serve", lambda s, host, port: served.append(s))
    port = free_port()
    result = CliRunner().invoke(cli.app, ["demo", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert "admin API key (shown once): vgl_" in result.stdout  # the API keeps its key
    link = next(w for w in result.stdout.split() if "/welcome/" in w)
    assert link.startswith(f"http://127.0.0.1:{port}/welcome/")
    assert box.people.enrollment(link.rsplit("/", 1)[1]).invitation.role == "admin"
    assert [s.dashboard_key_signin for s in served] == [False]


# ---- passkeys, with a software authenticator (the browser's own is in tests/e2e) ----
def signin_token(browser) -> str:
    return csrf_of(browser.get("/signin").text)


def passkey_sign_in(browser, device, token=None):
    token = token or signin_token(browser)
    options = browser.post("/signin/passkey/options", headers={"X-CSRF-Token": token})
    assert options.status_code == 200, options.text
    return browser.post("/signin/passkey", headers={"X-CSRF-Token": token},
                        json={"credential": device.get(options.json()), "next": "/alerts"})


def add_passkey(browser, device) -> None:
    token = csrf_of(browser.get("/settings").text)
    options = browser.post("/settings/passkeys/options", headers={"X-CSRF-Token": token})
    assert options.status_code == 200, options.text
    assert options.json()["authenticatorSelection"]["userVerification"] == "required"
    added = browser.post("/settings/passkeys", headers={"X-CSRF-Token": token},
                         json={"credential": device.create(options.json())})
    assert added.status_code == 201, added.text


@pytest.fixture
def device():
    from .helpers.soft_authenticator import SoftAuthenticator

    return SoftAuthenticator("http://127.0.0.1:8000", "127.0.0.1")


def test_a_passkey_alone_signs_its_person_in_until_they_are_disabled(api, box, clock, device):
    with TestClient(create_app(box), follow_redirects=False) as browser:
        secret, _ = enroll(browser, clock, invite(api))
        assert passkey_sign_in(browser, device).status_code == 401  # not registered yet
        assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        add_passkey(browser, device)
        assert "last used" not in browser.get("/settings").text
    with TestClient(create_app(box), follow_redirects=False) as other:
        signed = passkey_sign_in(other, device)
        assert signed.status_code == 200 and signed.json() == {"next": "/alerts"}
        assert "Aziza Karimova · editor · team lyon" in other.get("/alerts").text
        api.post(f"/v1/users/{api.get('/v1/users').json()[0]['id']}/disable").raise_for_status()
        assert other.get("/alerts").status_code == 303
        assert passkey_sign_in(other, device).status_code == 401


def test_a_passkey_answer_is_good_once_and_only_for_its_challenge(api, box, clock, device):
    with TestClient(create_app(box), follow_redirects=False) as browser:
        secret, _ = enroll(browser, clock, invite(api))
        sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock))
        add_passkey(browser, device)
        token = signin_token(browser)
        options = browser.post("/signin/passkey/options", headers={"X-CSRF-Token": token}).json()
        answer = device.get(options)
        assert browser.post("/signin/passkey", headers={"X-CSRF-Token": token},
                            json={"credential": answer}).status_code == 200
        assert browser.post("/signin/passkey", headers={"X-CSRF-Token": signin_token(browser)},
                            json={"credential": answer}).status_code in (401, 403)  # replayed
        device.user_verified = False  # the device did not check who holds it: not enough alone
        assert passkey_sign_in(browser, device).status_code == 401


@pytest.mark.parametrize("body, content_type", [
    (b"not json", "application/json"), (b"[]", "application/json"), (b'{"credential": 5}', "application/json"),
    (b'{"credential": {"id": "x", "response": {"clientDataJSON": "!!"}}}', "application/json"),
    (b'{"credential": {}}', "text/plain"),
])
def test_hostile_passkey_answers_get_a_4xx(browser, body, content_type):
    token = signin_token(browser)
    answer = browser.post("/signin/passkey", content=body,
                          headers={"X-CSRF-Token": token, "Content-Type": content_type})
    assert 400 <= answer.status_code < 500
    assert browser.post("/signin/passkey/options").status_code == 403  # no form token


def test_only_a_persons_own_session_adds_a_passkey(browser):
    form = browser.get("/signin")
    browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/",
                                  "csrf_token": csrf_of(form.text)})
    token = csrf_of(browser.get("/settings").text)
    assert browser.post("/settings/passkeys/options", headers={"X-CSRF-Token": token}).status_code == 403


@pytest.mark.parametrize("role, team, sees, names, writes", [
    ("viewer", "lyon", 200, False, 403), ("editor", "lyon", 200, True, 303), ("admin", "hq", 200, True, 303),
    ("viewer", "beta", 404, False, 403), ("editor", "beta", 404, False, 404),
])
def test_roles_and_teams_work_for_people_as_for_keys(api, browser, box, clock, role, team, sees, names, writes):
    case_id = api.post("/v1/cases", json={"person": {"name": "Hidden Name"}, "country": "TR",
                                          "teams": ["lyon"]}).json()["id"]
    secret, _ = enroll(browser, clock, invite(api, role=role, team=team))
    assert sign_in(browser, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == sees
    assert ("Hidden Name" in page.text) == names
    posted = browser.post(f"/cases/{case_id}/events", data={
        "csrf_token": csrf_of(browser.get("/settings").text), "type": "NoteAdded", "text": "x",
        "occurred_at": "2026-03-01T10:00"})
    assert posted.status_code == writes
    assert (browser.get("/settings").text.count('id="invite"') == 1) == (role == "admin")
    refused = browser.post("/settings/invitations", data={"csrf_token": csrf_of(browser.get("/settings").text),
                                                          "name": "Z Z", "role": "admin", "team": "x"})
    assert (refused.status_code == 403) == (role != "admin")


def test_a_passkey_instead_of_an_app_while_enrolling(api, browser, box, clock, device):
    path = invite(api)
    assert browser.post(path, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 200
    early = browser.post(path + "/passkey/finish")
    assert early.status_code == 422 and 'id="err-code"' in early.text  # no passkey yet: nothing finished
    options = browser.post(path + "/passkey/options")
    assert options.status_code == 200
    assert browser.post(path + "/passkey", json={"credential": device.create(options.json())}).status_code == 201
    done = browser.post(path + "/passkey/finish")
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    with box.engine.connect() as conn:
        assert conn.execute(select(people.c.totp_secret, people.c.enrolled_at)).first()[0] is None
    assert browser.post(path + "/passkey/options").status_code == 410  # the invitation is used up
    assert passkey_sign_in(browser, device).status_code == 200
    with TestClient(create_app(box), follow_redirects=False) as other:
        assert sign_in(other, "Aziza Karimova", PASSWORD, "123456").status_code == 401
        assert sign_in(other, "Aziza Karimova", PASSWORD, codes[0]).status_code == 303


def test_the_request_log_never_shows_an_invitation_token(api, browser, caplog):
    path = invite(api)
    with caplog.at_level("INFO", logger="vigil.requests"):
        browser.get(path)
        browser.post(path + "/totp", data={"code": "1"})
    token = path.rsplit("/", 1)[1]
    logged = [r.getMessage() for r in caplog.records if r.name == "vigil.requests"]
    assert "GET /welcome/… 200" in logged[0] and "POST /welcome/…/totp" in logged[1]
    assert not any(token in line for line in logged)


def lock_out(browser, clock, account="Aziza Karimova") -> None:
    for _ in range(LOCKOUT_AFTER):
        clock.advance(timedelta(minutes=16))
        assert password_step(browser, account, "wrong wrong wrong").status_code == 401


def test_the_admins_are_emailed_once_and_see_the_lockout_on_their_settings_page(api, box, clock, smtp_inbox):
    from dataclasses import replace

    from service.lockout_notices import LockoutNotices

    inbox, port = smtp_inbox
    with TestClient(create_app(box), follow_redirects=False) as admin, \
            TestClient(create_app(box), follow_redirects=False) as editor:
        admin_secret, _ = enroll(admin, clock, invite(api, name="Team Admin", role="admin", email="admin@example.org"))
        secret, _ = enroll(editor, clock, invite(api, email="aziza@example.org"))
        assert sign_in(editor, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        lock_out(editor, clock)
        notices = LockoutNotices(box.people.repository, replace(box.smtp, host="127.0.0.1", port=port), clock,
                                 box.settings.public_url)
        notices.run()
        notices.run()  # once only
        assert len(inbox.messages) == 1
        sent = inbox.messages[0]
        assert sent["To"] == "admin@example.org" and "Aziza Karimova" in sent["Subject"]
        assert "10 failed sign-ins" in sent.get_content() and "testclient" not in sent.get_content()
        # The locked person is signed out (and so sees no addresses); the admin's page shows them, with an unlock button.
        editor_page = editor.get("/settings")
        assert editor_page.status_code == 303 and "Locked since" not in editor_page.text
        assert sign_in(admin, "Team Admin", PASSWORD, next_code(admin_secret, clock)).status_code == 303
        shown = admin.get("/settings").text
        assert re.search(r"Locked since .*?: 10 failed sign-ins, from testclient\.", shown)
        person_id = [p["id"] for p in api.get("/v1/users").json() if p["name"] == "Aziza Karimova"][0]
        assert editor.post(f"/settings/people/{person_id}/unlock",
                           data={"csrf_token": csrf_of(shown)}).status_code in (303, 403)
        assert admin.post(f"/settings/people/{person_id}/unlock",
                          data={"csrf_token": csrf_of(shown)}).status_code == 303
        assert "Locked since" not in admin.get("/settings").text
        assert sign_in(editor, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        assert editor.post(f"/settings/people/{person_id}/unlock",  # only an admin unlocks
                           data={"csrf_token": csrf_of(editor.get("/settings").text)}).status_code == 403


def test_each_admin_is_emailed_the_lockout_in_their_dashboards_language(api, box, clock, smtp_inbox):
    """Russian for the admin whose browser asked for it at sign-in, French for the one who then picked it, English
    for the one who never signed in."""
    from dataclasses import replace

    from service.lockout_notices import LockoutNotices

    inbox, port = smtp_inbox
    with TestClient(create_app(box), follow_redirects=False, headers={"Accept-Language": "ru-RU,ru;q=0.9"}) as ru, \
            TestClient(create_app(box), follow_redirects=False) as fr, \
            TestClient(create_app(box), follow_redirects=False) as editor:
        for browser, name in ((ru, "Admin Ru"), (fr, "Admin Fr")):
            secret, _ = enroll(browser, clock, invite(api, name=name, role="admin", email=f"{name[-2:]}@example.org"))
            assert sign_in(browser, name, PASSWORD, next_code(secret, clock)).status_code == 303
        assert fr.post("/language", data={"lang": "fr", "next": "/"}).status_code == 303
        assert fr.post("/language", data={"lang": "xx", "next": "/"}).status_code == 303  # unknown: kept as it was
        invite(api, name="Admin En", role="admin", email="en@example.org")  # invited, never enrolled: not told
        enroll(editor, clock, invite(api, email="aziza@example.org"))
        lock_out(editor, clock)
    LockoutNotices(box.people.repository, replace(box.smtp, host="127.0.0.1", port=port), clock,
                   box.settings.public_url).run()
    sent = {m["To"]: m for m in inbox.messages}
    assert set(sent) == {"Ru@example.org", "Fr@example.org"}
    assert sent["Ru@example.org"]["Subject"] == "Vigil: учётная запись Aziza Karimova заблокирована"
    assert "после 10 неудачных попыток входа" in sent["Ru@example.org"].get_content()
    assert sent["Fr@example.org"]["Subject"] == "Vigil : le compte de Aziza Karimova est verrouillé"


def test_an_admin_who_never_chose_gets_the_lockout_in_english(api, box, clock, smtp_inbox):
    from dataclasses import replace

    from service.lockout_notices import LockoutNotices

    inbox, port = smtp_inbox
    with TestClient(create_app(box), follow_redirects=False) as browser:
        enroll(browser, clock, invite(api, name="Team Admin", role="admin", email="admin@example.org"))
        enroll(browser, clock, invite(api, email="aziza@example.org"))
        lock_out(browser, clock)
    LockoutNotices(box.people.repository, replace(box.smtp, host="127.0.0.1", port=port), clock,
                   box.settings.public_url).run()
    assert [m["Subject"] for m in inbox.messages] == ["Vigil: the account of Aziza Karimova is locked"]


def test_without_smtp_the_notice_is_the_dashboard_entry_alone(api, box, clock):
    from service.lockout_notices import LockoutNotices

    with TestClient(create_app(box), follow_redirects=False) as browser:
        enroll(browser, clock, invite(api))
        lock_out(browser, clock)
    LockoutNotices(box.people.repository, box.smtp, clock, box.settings.public_url).run()  # no SMTP host: no error
    assert box.engine.connect().execute(select(people.c.lock_notice_at)).scalar_one() is not None


@pytest.mark.parametrize("state", ["disabled", "locked", "mid-enrollment"])
def test_an_account_disabled_locked_or_mid_enrollment_can_do_nothing(api, browser, box, clock, state):
    """Neither step of the sign-in, nor the code page, nor any page or API call, for such an account."""
    case_id = api.post("/v1/cases", json={"person": {"name": "Hidden Name"}, "country": "TR",
                                          "teams": ["lyon"]}).json()["id"]
    path = invite(api)
    if state == "mid-enrollment":
        assert browser.post(path, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 200
        secret = None
    else:
        secret, _ = enroll(browser, clock, path)
        assert password_step(browser, "Aziza Karimova", PASSWORD).status_code == 303  # half signed in, then:
        person_id = api.get("/v1/users").json()[0]["id"]
        if state == "disabled":
            api.post(f"/v1/users/{person_id}/disable").raise_for_status()
        else:
            with TestClient(create_app(box), follow_redirects=False) as guesser:
                lock_out(guesser, clock)
        # the half-signed-in state is good for nothing now
        assert browser.get("/signin/code").status_code in (200, 303)
        late = browser.post("/signin/code", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                                  "csrf_token": csrf_of(browser.get("/signin").text)})
        assert late.status_code in (401, 403, 429) and "vigil_session" not in browser.cookies
    refused = password_step(browser, "Aziza Karimova", PASSWORD)
    assert refused.status_code in (401, 429) and "vigil_signin_step" not in refused.headers.get("set-cookie", "")
    assert "vigil_session" not in browser.cookies
    assert browser.get(f"/cases/{case_id}").status_code == 303  # to the sign-in page
    assert browser.get(f"/v1/cases/{case_id}").status_code == 401


@pytest.mark.parametrize("lifted_by", ["an admin", "time"])
def test_a_lockout_stops_the_persons_sessions_at_once_until_it_is_lifted(api, box, clock, lifted_by):
    """Someone guessing a person's password locks them out: their open session, live stream and calendar link stop
    at once (as for a disabled person), and come back when an admin unlocks them or the lock runs out."""
    with TestClient(create_app(box), follow_redirects=False) as person, \
            TestClient(create_app(box), follow_redirects=False) as guesser:
        secret, _ = enroll(person, clock, invite(api))
        assert sign_in(person, "Aziza Karimova", PASSWORD, next_code(secret, clock)).status_code == 303
        made = person.post("/settings/calendar", data={"csrf_token": csrf_of(person.get("/settings").text)})
        calendar = made.text.split('id="calendar-url">')[1].split("<")[0].split("127.0.0.1:8000", 1)[1]
        assert person.get(calendar).status_code == 200
        for _ in range(LOCKOUT_AFTER):  # past each growing delay, well within the session's 12 hours
            clock.advance(timedelta(minutes=2))
            assert password_step(guesser, "Aziza Karimova", "wrong wrong wrong").status_code == 401
        thrown_out = person.get("/settings")
        assert thrown_out.status_code == 303 and thrown_out.headers["location"].startswith("/signin")
        assert person.get("/live").status_code == 401
        assert person.get(calendar).status_code == 404
        assert person.post("/settings/calendar",
                           data={"csrf_token": csrf_of(made.text)}).status_code in (303, 403)
        assert password_step(person, "Aziza Karimova", PASSWORD).status_code == 429  # the same answer as the guesser's
        if lifted_by == "an admin":
            person_id = api.get("/v1/users").json()[0]["id"]
            assert api.post(f"/v1/users/{person_id}/unlock").status_code == 204
        else:
            clock.advance(timedelta(minutes=14, seconds=59))
            assert person.get("/settings").status_code == 303  # still locked, one second before it runs out
            clock.advance(timedelta(seconds=1))
        assert person.get("/settings").status_code == 200
        assert person.get(calendar).status_code == 200


def test_people_of_each_role_see_only_their_teams_cases_in_the_list(api, box, clock):
    ours = api.post("/v1/cases", json={"person": {"name": "Lyon Case"}, "country": "TR", "teams": ["lyon"]}).json()
    theirs = api.post("/v1/cases", json={"person": {"name": "Beta Case"}, "country": "TR", "teams": ["beta"]}).json()
    for n, (role, team) in enumerate([("viewer", "lyon"), ("editor", "beta"), ("admin", "hq")]):
        with TestClient(create_app(box), follow_redirects=False) as browser:
            name = f"Person {n}"
            secret, _ = enroll(browser, clock, invite(api, name=name, role=role, team=team))
            assert sign_in(browser, name, PASSWORD, next_code(secret, clock)).status_code == 303
            listed = browser.get("/").text
            assert (ours["id"] in listed) == (team in ("lyon", "hq"))
            assert (theirs["id"] in listed) == (team in ("beta", "hq"))
            assert browser.get(f"/v1/cases/{ours['id']}").status_code == 401  # a person's cookie is no API key
