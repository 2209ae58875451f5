"""A subscription's language: an alert email in French through a real SMTP server, a webhook title in Turkish
through a real local receiver, English for everyone else; the dashboard in the reader's language."""
from __future__ import annotations

import json
import re

import pytest

from notifications.channels.email import SmtpSettings

from .helpers.delivery import REMOVED, append, clock, drain, open_case, subscribe  # noqa: F401 - clock: a fixture
from .helpers.smtp import Inbox  # noqa: F401 - smtp_inbox's


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


def test_an_alert_email_in_french_to_a_subscription_with_language_fr(client, box, smtp_inbox):
    inbox, port = smtp_inbox
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example")
    created = client.post("/v1/subscriptions", json={"name": "bureau", "language": "fr", "channel": {
        "kind": "email", "to": ["permanence@ngo.example"]}, "filter": {"event_types": ["Removed"]}})
    assert created.status_code == 201 and created.json()["language"] == "fr"
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    drain(box)
    [message] = inbox.messages
    assert message["Subject"] == "[Vigil critique] Alerte : Éloigné·e (expulsé·e) vers UZ"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Dossier : http://127.0.0.1:8000/cases/{case_id}" in text and "Survenu :" in text
    assert '<html lang="fr" dir="ltr">' in html and "Règle : event.Removed. Envoyé par Vigil." in html
    # the API's alert stays in English: one stored title, said in each subscriber's language
    assert client.get("/v1/alerts").json()["items"][0]["title"] == "Removed (deported) to UZ"


def test_a_webhook_title_in_turkish_and_english_beside_it(client, box, receiver):
    subscribe(client, receiver.url("/tr"), language="tr")
    subscribe(client, receiver.url("/en"))
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [turkish] = receiver.at("/tr")
    [english] = receiver.at("/en")
    assert json.loads(turkish.body)["data"]["title"] == "UZ ülkesine gönderildi (sınır dışı edildi)"
    assert json.loads(english.body)["data"]["title"] == "Removed (deported) to UZ"


def test_an_unknown_language_is_refused_naming_the_field(client):
    answer = client.post("/v1/subscriptions", json={"name": "x", "language": "xx", "channel": {
        "kind": "webhook", "url": "https://hooks.example/x"}})
    assert answer.status_code == 422 and "language" in answer.text


def test_the_dashboard_follows_accept_language_then_the_picker(client):
    ru = client.get("/signin", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert '<html lang="ru" dir="ltr">' in ru.text and "Вход в Vigil" in ru.text
    assert "Sign in to Vigil" in client.get("/signin", headers={"accept-language": "de, en;q=0.5"}).text
    picked = client.post("/language", data={"lang": "tr", "next": "/signin"}, follow_redirects=False)
    assert picked.status_code == 303 and picked.headers["location"] == "/signin"
    client.cookies.set("vigil_lang", "tr")
    assert "Vigil’e giriş" in client.get("/signin", headers={"accept-language": "ru"}).text


def test_a_form_error_in_the_readers_language_and_in_english_otherwise(box, client):
    from fastapi.testclient import TestClient

    from service.app import create_app

    from ..conftest import ADMIN_KEY
    case_id = open_case(client)
    for lang, said in (("ru", "Это поле обязательно"), ("en", "This is required")):
        with TestClient(create_app(box), follow_redirects=False, cookies={"vigil_lang": lang}) as browser:
            form = browser.get("/signin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/", "csrf_token": token})
            page = browser.get(f"/cases/{case_id}", params={"type": "InterimMeasureGranted"}).text
            answer = browser.post(f"/cases/{case_id}/events", data={
                "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
                "type": "InterimMeasureGranted", "occurred_at": "2026-01-10T09:00"})
            assert answer.status_code == 422
            error = re.search(r'<span class="field-error" id="err-body">([^<]*)</span>', answer.text)
            assert error and error.group(1) == said


def test_the_alert_inbox_says_titles_in_the_readers_language(box, client):
    from fastapi.testclient import TestClient

    from service.app import create_app

    from ..conftest import ADMIN_KEY
    append(client, open_case(client), "Removed", REMOVED)
    assert client.get("/v1/alerts").json()["items"][0]["title"] == "Removed (deported) to UZ"  # the API: English
    with TestClient(create_app(box), headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                    cookies={"vigil_lang": "tr"}) as browser:
        inbox = browser.get("/alerts").text
    assert '<span class="alert-title">UZ ülkesine gönderildi (sınır dışı edildi)</span>' in inbox
    assert "Removed (deported)" not in inbox and "Tümü" in inbox


def test_the_name_search_and_the_checkpoint_box_in_the_readers_language(box, client):
    from fastapi.testclient import TestClient

    from service.app import create_app

    from ..conftest import ADMIN_KEY
    with TestClient(create_app(box), follow_redirects=False, cookies={"vigil_lang": "ru"}) as browser:
        form = browser.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/", "csrf_token": token})
        cases = browser.get("/").text
        assert '<label for="q">Имя</label>' in cases and 'placeholder="любое написание или другое имя"' in cases
        page = browser.get("/subscriptions").text
        assert "журнала доказательств (<code>log.checkpoint</code>), чтобы" in page
        refused = browser.post("/subscriptions", data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1), "name": "почта",
            "channel_kind": "email", "to": "team@example.org", "log_checkpoints": "on", "language": "ru"})
        assert refused.status_code == 422
        assert "контрольные точки журнала может получать только канал webhook" in refused.text


def test_the_account_pages_in_the_readers_language(box, client):
    """Accounts: the sign-in form, its refusal, a dead invitation link and the settings' people sections."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    from ..conftest import ADMIN_KEY
    said = {"ru": ("Имя или эл. почта", "Учётная запись или пароль неверны.",
                   "Эта ссылка-приглашение недействительна.", "Пригласить человека"),
            "en": ("Name or email", "The account or password is not right.",
                   "This invitation link is not valid.", "Invite a person")}
    for lang, (label, refusal, gone, invite) in said.items():
        with TestClient(create_app(box), follow_redirects=False, cookies={"vigil_lang": lang}) as browser:
            form = browser.get("/signin")
            assert label in form.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
            wrong = browser.post("/signin", data={"account": "nobody", "password": "not it",
                                                  "timezone": "UTC", "next": "/", "csrf_token": token})
            assert wrong.status_code == 401 and refusal in wrong.text
            link = browser.get("/welcome/not-a-token")
            assert link.status_code == 410 and gone in link.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/signin").text).group(1)
            browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/", "csrf_token": token})
            assert invite in browser.get("/settings").text
