"""The dashboard's refusals and role names in the reader's language, while the API's JSON keeps its English."""
from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from service.keys import KeyService

from ..conftest import ADMIN_KEY
from .helpers.pages import csrf_of


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


def reader(box, key: str, lang: str) -> TestClient:
    """A browser signed in with `key`, reading the dashboard in `lang`."""
    from service.app import create_app

    browser = TestClient(create_app(box), follow_redirects=False, cookies={"vigil_lang": lang})
    form = browser.get("/signin")
    browser.post("/signin", data={"api_key": key, "timezone": "UTC", "next": "/", "csrf_token": csrf_of(form.text)})
    return browser


def test_form_errors_and_role_names_in_russian(box, client):
    with reader(box, ADMIN_KEY, "ru") as browser:
        page = browser.get("/subscriptions").text
        assert re.search(r"<span>[^<]* · администратор · команда admin</span>", page)
        refused = browser.post("/subscriptions", data={
            "csrf_token": csrf_of(page), "name": "почта", "channel_kind": "email", "to": "team@example.org"})
        assert refused.status_code == 422
        assert ('<span class="field-error" id="err-channel_kind">для эл. почты нужно задать VIGIL_SMTP_HOST</span>'
                in refused.text)
        refused = browser.post("/subscriptions", data={
            "csrf_token": csrf_of(page), "name": "signal", "channel_kind": "signal",
            "base_url": "https://signal.ngo.example", "number": "0151", "recipients": "+905321234567"})
        assert ('<span class="field-error" id="err-number">должен быть номером телефона в международном формате'
                in refused.text)
        settings = browser.get("/settings").text
        assert '<option value="viewer" >читатель</option>' in settings
    # The API's answer to the same refusal stays English, for machines.
    response = client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email",
                                                                                  "to": ["a@ngo.example"]}})
    assert response.json()["detail"][0]["msg"] == "email needs VIGIL_SMTP_HOST set"


def test_refusal_pages_in_the_readers_language(box, client):
    viewer = KeyService(box.engine, box.clock).create("viewer", "admin", "hq viewer")
    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "lyon editor")
    case_id = client.post("/v1/cases", json={"person": {"name": "Hidden Name"}, "country": "TR"}).json()["id"]
    with reader(box, viewer, "ru") as browser:
        missing = browser.get(f"/cases/{uuid.uuid4()}")
        assert missing.status_code == 404 and "Такого дела нет, или ваша команда не может его видеть." in missing.text
        assert "Имена не показываются роли «читатель»." in browser.get(f"/cases/{case_id}").text
        page = browser.get("/subscriptions").text
        posted = browser.post("/subscriptions", data={"csrf_token": csrf_of(page), "name": "x"})
        assert posted.status_code == 403
        assert "Ваша роль (читатель) позволяет только читать, но не изменять." in posted.text
    with reader(box, editor, "fr") as browser:  # a Forbidden from the service, said in French beside the form
        page = browser.get("/subscriptions").text
        assert re.search(r"<span>[^<]* · éditeur · équipe lyon</span>", page)
        posted = browser.post("/subscriptions", data={
            "csrf_token": csrf_of(page), "name": "x", "channel_kind": "webhook", "url": "https://ngo.example/h",
            "include_personal_data": "on"})
        assert posted.status_code == 422
        assert "seul un administrateur peut activer include_personal_data" in posted.text
    with reader(box, ADMIN_KEY, "tr") as browser:
        gone = browser.get(f"/subscriptions/{uuid.uuid4()}")
        assert gone.status_code == 404 and "Böyle bir abonelik yok ya da başka bir ekibe ait." in gone.text
    api = client.get(f"/v1/subscriptions/{uuid.uuid4()}")
    assert api.status_code == 404 and api.json()["detail"] == "subscription not found"


def test_a_conflict_page_in_russian_and_the_api_in_english(box, client):
    from notifications.tables import deliveries

    from .helpers.delivery import drain

    hook = {"name": "hook", "channel": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}}
    sub = client.post("/v1/subscriptions", json=hook).json()
    client.post(f"/v1/subscriptions/{sub['id']}/test")
    drain(box)
    with box.engine.connect() as conn:
        [delivery_id] = [r.id for r in conn.execute(deliveries.select())]
    api = client.post(f"/v1/deliveries/{delivery_id}/retry")  # a failed (retrying) delivery is not dead yet
    assert api.status_code == 409 and api.json()["detail"] == "only a dead delivery can be retried"
    with reader(box, ADMIN_KEY, "ru") as browser:
        page = browser.get("/subscriptions").text
        refused = browser.post(f"/deliveries/{delivery_id}/retry", data={"csrf_token": csrf_of(page)})
        assert refused.status_code == 409
        assert "повторить можно только окончательно неудавшуюся доставку" in refused.text
