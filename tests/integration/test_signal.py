"""The Signal channel against a real local signal-cli REST API stand-in: delivery, retries, refusals, the SSRF guard,
numbers masked when shown and sealed at rest."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ..conftest import ADMIN_KEY
from ..signal_cli import SignalCliApi
from .helpers.delivery import REMOVED, append, clock, deliveries, drain, open_case  # noqa: F401 - clock: a fixture
from .helpers.pages import csrf_of

ACCOUNT = "+4930123456789"
RECIPIENT = "+905321234567"
GROUP = "group.dGVhbS1ncm91cC1pZC1mb3ItdGVzdHM="


@pytest.fixture
def db_url(request):
    """Sending does not depend on the database (SQLite); what is stored is checked on PostgreSQL too."""
    return request.getfixturevalue("postgres_url" if request.node.get_closest_marker("postgres") else "sqlite_url")


@pytest.fixture
def signal_api():
    with SignalCliApi(ACCOUNT) as running:
        yield running


def signal(base_url: str, number: str = ACCOUNT, recipients=(RECIPIENT, GROUP)) -> dict:
    return {"kind": "signal", "base_url": base_url, "number": number, "recipients": list(recipients)}


def subscribe(client, channel: dict, **extra) -> dict:
    response = client.post("/v1/subscriptions", json={"name": "signal desk", "channel": channel,
                                                      "filter": {"event_types": ["Removed"]}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_delivered_as_plain_text_without_personal_data(client, box, signal_api):
    subscribe(client, signal(signal_api.url))
    case_id = open_case(client)
    append(client, case_id, "Removed", REMOVED)
    assert drain(box) == 1
    [sent] = signal_api.sent
    assert set(sent) == {"message", "number", "recipients"}
    assert sent["number"] == ACCOUNT and sent["recipients"] == [RECIPIENT, GROUP]
    assert sent["message"].startswith("Alert [critical]: Removed (deported) to UZ")
    assert f"Case: http://127.0.0.1:8000/cases/{case_id}\n" in sent["message"]
    assert "Delivery Person" not in sent["message"]
    [delivery] = deliveries(client)
    assert delivery["state"] == "delivered"
    log = client.get(f"/v1/deliveries/{delivery['id']}").json()["attempt_log"]
    assert [(a["outcome"], a["status_code"]) for a in log] == [("delivered", 201)]


def test_names_only_when_the_subscription_enabled_them_in_its_language(client, box, signal_api):
    subscribe(client, signal(signal_api.url), include_personal_data=True, language="ru")
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [sent] = signal_api.sent
    assert "Человек: Delivery Person" in sent["message"] and "Дело:" in sent["message"]


def test_retried_on_5xx_then_delivered(client, box, signal_api, clock):
    subscribe(client, signal(signal_api.url))
    signal_api.outages.extend([503])
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [failed] = deliveries(client)
    assert failed["state"] == "failed" and failed["last_error"] == "HTTP 503" and signal_api.sent == []
    assert drain(box) == 0  # not due yet
    clock.advance(timedelta(seconds=10))
    drain(box)
    [done] = deliveries(client)
    assert done["state"] == "delivered" and done["attempts"] == 2 and len(signal_api.sent) == 1
    log = client.get(f"/v1/deliveries/{done['id']}").json()["attempt_log"]
    assert [(a["outcome"], a["status_code"]) for a in log] == [("retry", 503), ("delivered", 201)]


def test_a_400_refusal_is_permanent_and_quotes_no_number(client, box, signal_api, clock):
    subscribe(client, signal(signal_api.url, number="+4930999999999"))  # not the account signal-cli has
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [dead] = deliveries(client)
    assert dead["state"] == "dead" and dead["attempts"] == 1 and dead["next_attempt_at"] is None
    assert dead["last_error"] == "HTTP 400: refused by the receiver; not retried"
    clock.advance(timedelta(hours=2))
    assert drain(box) == 0 and signal_api.sent == []


@pytest.fixture
def guarded(box):
    box.settings.webhook_allow_private_networks = False
    box.worker.allow_private_networks = False
    return box


@pytest.mark.parametrize("base_url, reason", [("http://127.0.0.1:8080", "loopback"),
                                              ("http://10.0.0.5:8080", "private"),
                                              ("http://[::1]:8080", "loopback")])
def test_ssrf_guard_refuses_an_internal_base_url_at_save_time(client, guarded, base_url, reason):
    response = client.post("/v1/subscriptions", json={"name": "s", "channel": signal(base_url)})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "channel", "base_url"] and reason in error["msg"]
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_ssrf_guard_refuses_at_send_time_unless_private_networks_are_allowed(client, box, signal_api, clock):
    # Made while VIGIL_WEBHOOK_ALLOW_PRIVATE_NETWORKS was on (signal-cli on the team's own network), sent after
    # it was turned off: refused at the connection, never reaching the service.
    subscribe(client, signal(signal_api.url))
    box.worker.allow_private_networks = False
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    [dead] = deliveries(client)
    assert dead["state"] == "dead" and "loopback" in dead["last_error"] and signal_api.sent == []
    box.worker.allow_private_networks = True  # the operator allows it again: the replay goes through
    assert client.post(f"/v1/deliveries/{dead['id']}/retry").status_code == 200
    drain(box)
    assert deliveries(client)[0]["state"] == "delivered" and len(signal_api.sent) == 1


@pytest.mark.parametrize("channel, field", [
    (signal("https://signal.ngo.example", number="01511234567"), "number"),
    (signal("https://signal.ngo.example", number="+49 30 1234567"), "number"),
    (signal("https://signal.ngo.example", recipients=["+49301234567", "mum"]), "recipients"),
    (signal("https://signal.ngo.example", recipients=[]), "recipients"),
    (signal("ftp://signal.ngo.example"), "base_url"),
])
def test_bad_settings_are_422_naming_the_field(client, channel, field):
    response = client.post("/v1/subscriptions", json={"name": "s", "channel": channel})
    assert response.status_code == 422
    assert [e["loc"][:4] for e in response.json()["detail"]] == [["body", "channel", "signal", field]]
    assert "mum" not in response.text and "01511234567" not in response.text  # the input is never echoed


def test_numbers_are_masked_in_the_api_and_the_dashboard(client, signal_api):
    sub = subscribe(client, signal(signal_api.url))
    shown = client.get("/v1/subscriptions").json()["items"][0]["channel"]
    assert shown == {"kind": "signal", "base_url": f"http://127.0.0.1:{signal_api.port}/…",
                     "number": "+49•••••••••89", "recipients": ["+90••••••••67", "group.…dHM="]}
    for page in (client.get("/subscriptions").text, client.get(f"/subscriptions/{sub['id']}").text):
        assert "+49•••••••••89" in page and "+90••••••••67" in page
        assert ACCOUNT not in page and RECIPIENT not in page and GROUP not in page
        assert "4930123456789" not in page and "5321234567" not in page


def test_the_dashboard_form_offers_signal(box, browser, client, signal_api):
    form = browser.get("/signin")
    browser.post("/signin", data={"api_key": ADMIN_KEY, "timezone": "UTC", "next": "/",
                                  "csrf_token": csrf_of(form.text)})
    page = browser.get("/subscriptions").text
    assert '<option value="signal" >signal</option>' in page
    assert re.search(r'data-for-kinds="signal"><label for="s-signal-to">', page)
    refused = browser.post("/subscriptions", data={
        "csrf_token": csrf_of(page), "name": "Signal desk", "channel_kind": "signal", "base_url": signal_api.url,
        "number": "0151", "recipients": f"{RECIPIENT}, {GROUP}"})
    assert refused.status_code == 422
    assert re.search(r'<span class="field-error" id="err-number">must be a phone number in international form',
                     refused.text)
    created = browser.post("/subscriptions", data={
        "csrf_token": csrf_of(page), "name": "Signal desk", "channel_kind": "signal", "base_url": signal_api.url,
        "number": ACCOUNT, "recipients": f"{RECIPIENT}, {GROUP}"})
    assert created.status_code == 201
    [sub] = client.get("/v1/subscriptions").json()["items"]
    assert sub["channel"]["recipients"] == ["+90••••••••67", "group.…dHM="]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sealed_at_rest(client, box, signal_api, backend):
    subscribe(client, signal(signal_api.url), escalate_after="PT1H",
              escalate_to=signal(signal_api.url, recipients=["+33612345678"]))
    append(client, open_case(client), "Removed", REMOVED)
    drain(box)
    assert len(signal_api.sent) == 1  # it was opened to be sent
    digits = ("4930123456789", "5321234567", "33612345678", GROUP.removeprefix("group."))
    with box.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert not any(d in str(row) for d in digits), table
    if backend == "sqlite":
        box.engine.dispose()
        db_file = Path(box.engine.url.database)
        for path in db_file.parent.glob(db_file.name + "*"):
            raw = path.read_bytes()
            assert not any(d.encode() in raw for d in digits), path


def test_the_api_schema_lists_the_signal_channel(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["SignalChannel"]["properties"]) == {"kind", "base_url", "number", "recipients"}
    assert set(schemas["SignalChannel"]["required"]) == {"kind", "base_url", "number", "recipients"}
