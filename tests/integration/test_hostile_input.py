"""Hostile input: control characters refused or made harmless, no 500 on any input, no SSRF through embedded IPv4.

Every test here runs on SQLite and on PostgreSQL (which, unlike SQLite, cannot store or even compare text holding
NUL). The fuzz test at the end sends hostile values into every input of every route, API and dashboard alike.
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from events.store import NewEvent
from events.text import multi_line, one_line, single_line
from notifications import ssrf
from notifications.channels.base import HttpRequest, send_http
from notifications.http_sender import AiohttpSender, HttpxSender
from notifications.channels.email import SmtpSettings
from notifications.ssrf import blocked_reason
from notifications.tables import alerts
from service.web import ack_pages, pages

from .helpers.delivery import drain

PUBLIC = "93.184.216.34"


def offline_resolve(host: str, port: int) -> list[str]:
    """A resolver for a machine without DNS: literals resolve to themselves, every name to one public address."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        host.encode("idna")  # what getaddrinfo does first, and where a bad label used to escape as UnicodeError
        return [PUBLIC]


@pytest.fixture
def guarded(box, monkeypatch):
    """The SSRF guard on, as in production, with no DNS needed."""
    monkeypatch.setattr(ssrf, "resolve", offline_resolve)
    box.settings.webhook_allow_private_networks = False
    box.worker.allow_private_networks = False
    return box


def asgi_request(client, method: str, url: str, **kwargs) -> httpx.Response:
    """A request with its header bytes as sent, like a real server passes them on (TestClient re-encodes them)."""
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers=client.headers) as raw:
            return await raw.request(method, url, **kwargs)
    return asyncio.run(send())


def open_case(client) -> str:
    response = client.post("/v1/cases", json={"person": {"name": "Hostile Input"}, "country": "FR"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def append(client, case_id: str, type_: str, data: dict, **kwargs):
    # Within the history horizon of the test clock (2026-03-01 12:00 UTC), so that it pages.
    return client.post(f"/v1/cases/{case_id}/events", json={"type": type_, "occurred_at": "2026-03-01T10:00:00Z",
                                                           "data": data}, **kwargs)


# ---- finding 4: control characters ----
def test_text_rules():
    assert one_line("Camp\r\nBcc: a@b.example\x00\u2028x\t") == "Camp Bcc: a@b.example x"
    assert multi_line("one\r\ntwo\rthree\tfour") == "one\ntwo\nthree\tfour"
    assert single_line("Café – Zürich") == "Café – Zürich"
    for bad in ("a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x85b", "a\u2028b", "a\tb"):
        with pytest.raises(ValueError):
            single_line(bad)
    for bad in ("a\x00b", "a\x0bb", "a\x7fb", "a\x9bb"):
        with pytest.raises(ValueError):
            multi_line(bad)


@pytest.mark.parametrize("type_, data, loc", [
    ("Detained", {"place": "Camp\r\nBcc: attacker@evil.example"}, ["place"]),
    ("Detained", {"authority": "Police\x00"}, ["authority"]),
    ("HearingScheduled", {"court": "Court", "kind": "bail\nappeal", "at": "2026-05-01T09:00:00Z"}, ["kind"]),
    ("Charged", {"charges": ["terrorism", "a\x1bb"]}, ["charges", "1"]),
    ("Sentenced", {"term": "ten\u2028years"}, ["term"]),
    ("NoteAdded", {"text": "a\x00b"}, ["text"]),
    ("NoteAdded", {"text": "fine", "note": "bell\x07"}, ["note"]),
    ("PersonDetailsUpdated", {"person": {"name": "A\x00B"}}, ["person", "name"]),
])
def test_control_characters_are_refused_naming_the_field(client, type_, data, loc):
    response = append(client, open_case(client), type_, data)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "data", *loc]


@pytest.mark.parametrize("body, loc", [
    ({"person": {"name": "Name\r\nX"}, "country": "FR"}, ["body", "person", "name"]),
    ({"person": {"name": "N", "aliases": ["a\x00"]}, "country": "FR"}, ["body", "person", "aliases", "0"]),
    ({"person": {"name": "N"}, "country": "FR", "summary": "a\x00b"}, ["body", "summary"]),
])
def test_control_characters_are_refused_when_a_case_is_opened(client, body, loc):
    response = client.post("/v1/cases", json=body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc, response.text


@pytest.mark.parametrize("source, loc", [
    ({"url": "https://example.org/a\x00b"}, "url"), ({"title": "T\r\nX"}, "title"), ({"reliability": "hi\x00"},
                                                                                      "reliability"),
])
def test_control_characters_are_refused_in_a_source(client, source, loc):
    response = client.post(f"/v1/cases/{open_case(client)}/events", json={
        "type": "NoteAdded", "occurred_at": "2026-02-01T10:00:00Z", "data": {"text": "x"}, "source": source})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "source", loc]


def test_long_text_keeps_line_breaks_and_tabs(client):
    case_id = open_case(client)
    response = append(client, case_id, "NoteAdded", {"text": "first\r\nsecond\tthird", "note": "a\nb"})
    assert response.status_code == 201, response.text
    note = client.get(f"/v1/cases/{case_id}/events").json()["items"][-1]
    assert note["data"] == {"text": "first\nsecond\tthird", "note": "a\nb"}


@pytest.mark.parametrize("name", ["desk\x00", "desk\r\nteam", "\x1b[31mred"])
def test_a_subscription_name_with_control_characters_is_refused(client, name):
    response = client.post("/v1/subscriptions", json={"name": name, "channel": {"kind": "email",
                                                                                 "to": ["desk@ngo.example"]}})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"], response.text


def _mail_subscription(client, box, port: int) -> None:
    box.smtp = box.worker.smtp = SmtpSettings("127.0.0.1", port, "alerts@vigil.example")
    response = client.post("/v1/subscriptions", json={"name": "mail", "channel": {"kind": "email",
                                                      "to": ["desk@ngo.example"]},
                                                      "filter": {"event_types": ["Detained"]}})
    assert response.status_code == 201, response.text


def _only_delivery(client) -> dict:
    [delivery] = client.get("/v1/deliveries").json()["items"]
    return delivery


def test_an_event_stored_with_a_line_break_still_reaches_the_mailbox(client, box, smtp_inbox):  # noqa: F811
    """Stored before line breaks were refused (the log is append-only): the title is built on one line."""
    inbox, port = smtp_inbox
    _mail_subscription(client, box, port)
    case_id = open_case(client)
    box.store.append(case_id, [NewEvent("Detained", box.clock.now() - timedelta(hours=1),
                                        {"place": "Camp\r\nBcc: attacker@evil.example"})], actor="old-version")
    drain(box)
    assert _only_delivery(client)["state"] == "delivered"
    [message] = inbox.messages
    assert message["Subject"] == "[Vigil high] Alert: Detained in Camp Bcc: attacker@evil.example"
    assert message["Bcc"] is None and "attacker" not in (message["To"] or "")


def test_an_alert_title_stored_with_a_line_break_still_reaches_the_mailbox(client, box, smtp_inbox):  # noqa: F811
    """An alert raised by an older version, its title already holding \\r\\n: every channel gets one line."""
    inbox, port = smtp_inbox
    _mail_subscription(client, box, port)
    assert append(client, open_case(client), "Detained", {"place": "Camp"}).status_code == 201
    with box.engine.begin() as conn:
        conn.execute(update(alerts).values(title="Detained in Camp\r\nBcc: attacker@evil.example\n"))
    drain(box)
    assert _only_delivery(client)["state"] == "delivered"
    [message] = inbox.messages
    assert message["Subject"] == "[Vigil high] Alert: Detained in Camp Bcc: attacker@evil.example"
    assert message["Bcc"] is None


# ---- finding 5: 500s from bad input ----
@pytest.mark.parametrize("if_match", ["\xb2", "1\xb2", "\xb9", 'W/"\xb3"', "1" * 15, "-1", "1.0"])
def test_an_if_match_that_is_not_a_version_number_is_a_422(client, if_match):
    response = asgi_request(client, "POST", f"/v1/cases/{open_case(client)}/events", headers={
        "If-Match": if_match.encode("latin-1")}, json={"type": "NoteAdded", "occurred_at": WHEN, "data": {"text": "x"}})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["header", "If-Match"]


def test_an_ascii_if_match_still_works(client):
    case_id = open_case(client)
    first = append(client, case_id, "NoteAdded", {"text": "x"}, headers={"If-Match": '"1"'})
    assert first.status_code == 201 and first.json()["version"] == 2
    assert append(client, case_id, "NoteAdded", {"text": "x"}, headers={"If-Match": '"1"'}).status_code == 409
    assert [e["version"] for e in client.get(f"/v1/cases/{case_id}/events").json()["items"]] == [1, 2]


BAD_HOSTS = ["a" * 64 + ".example", "a..example", ".example", "example..", "xn--a.example", "a." * 127 + "a"]


@pytest.mark.parametrize("guard", [True, False], ids=["guard-on", "guard-off"])
@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_host_name_that_cannot_be_looked_up_is_a_422_naming_the_field(client, box, monkeypatch, guard, host):
    if guard:
        monkeypatch.setattr(ssrf, "resolve", offline_resolve)
        box.settings.webhook_allow_private_networks = False
    url = f"https://{host}/hook"
    for channel, loc in (
        ({"kind": "webhook", "url": url}, ["channel", "webhook", "url"]),
        ({"kind": "matrix", "homeserver": url, "room_id": "!r:x.org", "access_token": "t"},
         ["channel", "matrix", "homeserver"]),
        ({"kind": "telegram", "bot_token": "1:a", "chat_id": "1", "api_base": url},
         ["channel", "telegram", "api_base"]),
    ):
        response = client.post("/v1/subscriptions", json={"name": "x", "channel": channel})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", *loc]


def test_a_stored_target_with_a_bad_host_name_is_refused_at_send_time(client, guarded, monkeypatch):
    """The send-time guard never lets the resolver's UnicodeError escape (a target stored by an older version)."""
    async def attempt():
        for sender in (AiohttpSender(1, allow_private=False), HttpxSender()):
            outcome = await send_http(sender, HttpRequest("POST", "https://a..example/hook", b"{}", {}),
                                      guarded.clock.now())
            await sender.aclose()
            assert "refused" in outcome.error and "label" in outcome.error
        return outcome
    outcome = asyncio.run(attempt())
    assert "refused" in outcome.error and "label" in outcome.error


NUL_URLS = [
    ("GET", "/v1/cases/%00", 404, None), ("GET", "/v1/cases/%00/events", 404, None),
    ("GET", "/v1/cases?status=%00", 422, "status"), ("GET", "/v1/cases?country=%00", 422, "country"),
    ("GET", "/v1/alerts?case_id=%00", 422, "case_id"), ("GET", "/v1/deliveries?alert_id=%00", 422, "alert_id"),
    ("GET", "/v1/deliveries/%00", 404, None), ("GET", "/v1/subscriptions/%00", 404, None),
    ("POST", "/v1/alerts/%00/ack", 404, None), ("GET", "/v1/access-log?case_id=%00", 422, "case_id"),
    ("GET", "/cases/%00", 404, None), ("GET", "/?q=%00", 422, "q"), ("GET", "/v1/cases?q=a%1Bb", 422, "q"),
    ("GET", "/v1/cases/x%0Ay", 404, None), ("GET", "/v1/events?types=NoteAdded%7F", 422, "types"),
]


@pytest.mark.parametrize("method, url, status, param", NUL_URLS)
def test_control_characters_in_a_url_are_a_404_or_a_422(client, method, url, status, param):
    response = client.request(method, url)
    assert response.status_code == status, response.text
    if param:
        assert response.json()["detail"][0]["loc"] == ["query", param]


def test_a_clean_url_with_escapes_still_works(client):
    case_id = open_case(client)
    alerts = client.get(f"/v1/alerts?case_id={case_id}&state=open")
    assert alerts.status_code == 200 and {a["case_id"] for a in alerts.json()["items"]} <= {case_id}
    found = client.get("/v1/cases?q=caf%C3%A9%20noir")
    assert found.status_code == 200 and found.json()["items"] == []  # read as "café noir", which names no one


# ---- finding 6: SSRF through IPv4 embedded in IPv6 ----
@pytest.mark.parametrize("address, reason", [
    ("2002:7f00:1::", "loopback (inside a 6to4 IPv6 address)"),
    ("2002:a00:1::", "private (inside a 6to4 IPv6 address)"),
    ("2002:a9fe:a9fe::", "link-local (cloud metadata) (inside a 6to4 IPv6 address)"),
    # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted), and a private server
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback (inside a Teredo client IPv6 address)"),
    ("2001:0:a00:1:8000:63bf:a247:27dd", "private (inside a Teredo server IPv6 address)"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:a9fe:a9fe", "link-local (cloud metadata)"),
    ("::127.0.0.1", "loopback (inside a IPv4-compatible IPv6 address)"),
    ("::10.0.0.1", "private (inside a IPv4-compatible IPv6 address)"),
    ("64:ff9b::7f00:1", "loopback (inside a NAT64 IPv6 address)"),
    ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata) (inside a NAT64 IPv6 address)"),
    ("64:ff9b::c0a8:1", "private (inside a NAT64 IPv6 address)"),
    ("64:ff9b:1::7f00:1", "non-public (local-use NAT64)"), ("64:ff9b:1:ff::5db8:d822", "non-public (local-use NAT64)"),
])
def test_ipv6_addresses_carrying_an_internal_ipv4_address_are_refused(address, reason):
    assert blocked_reason(address) == reason


@pytest.mark.parametrize("address, reason", [
    ("2002:5db8:d822::1", None),  # 6to4 of a public address: an ordinary public IPv6 address
    ("::ffff:93.184.216.34", None),
    ("64:ff9b::5db8:d822", None),  # what DNS64 gives an IPv6-only host for a public IPv4 receiver
    ("::93.184.216.34", "reserved"),  # IPv4-compatible addresses are deprecated: refused even when public
    ("2001:0:5db8:d822::a247:27dd", "private"),  # Teredo is never a place to send alerts
])
def test_ipv6_addresses_carrying_a_public_ipv4_address(address, reason):
    assert blocked_reason(address) == reason


EMBEDDED_LOOPBACK = ["[2002:7f00:1::]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]", "[::ffff:127.0.0.1]",
                     "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b:1::7f00:1]"]


@pytest.mark.parametrize("host", EMBEDDED_LOOPBACK)
def test_every_url_field_refuses_an_embedded_loopback_address(client, guarded, host):
    url = f"http://{host}/"
    for where, channel, field_name in (
        ("channel", {"kind": "webhook", "url": url}, "url"),
        ("channel", {"kind": "slack", "url": url}, "url"),
        ("channel", {"kind": "matrix", "homeserver": url, "room_id": "!r:x.org", "access_token": "t"}, "homeserver"),
        ("channel", {"kind": "telegram", "bot_token": "1:a", "chat_id": "1", "api_base": url}, "api_base"),
        ("escalate_to", {"kind": "webhook", "url": url}, "url"),
    ):
        body = {"name": "x", "channel": {"kind": "webhook", "url": "https://public.example/h"}}
        body.update({where: channel} if where == "channel" else {"escalate_after": "PT1H", "escalate_to": channel})
        response = client.post("/v1/subscriptions", json=body)
        assert response.status_code == 422, (where, field_name, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", where, field_name]
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_a_public_6to4_target_is_accepted(client, guarded):
    response = client.post("/v1/subscriptions", json={"name": "x", "channel": {"kind": "webhook",
                                                                               "url": "http://[2002:5db8:d822::1]/"}})
    assert response.status_code == 201, response.text
    assert [s["id"] for s in client.get("/v1/subscriptions").json()["items"]] == [response.json()["id"]]


def test_an_embedded_loopback_target_is_refused_at_send_time(client, box, monkeypatch):
    """Accepted while private networks were allowed; refused when the delivery is sent with the guard on."""
    response = client.post("/v1/subscriptions", json={"name": "x", "channel": {"kind": "webhook",
                                                      "url": "http://[2002:7f00:1::]:9/hook"},
                                                      "filter": {"event_types": ["Detained"]}})
    assert response.status_code == 201
    monkeypatch.setattr(ssrf, "resolve", offline_resolve)
    box.settings.webhook_allow_private_networks = False
    box.worker.allow_private_networks = False
    append(client, open_case(client), "Detained", {})
    drain(box)
    delivery = _only_delivery(client)
    assert delivery["state"] == "dead" and "loopback (inside a 6to4" in delivery["last_error"]


# ---- the fuzz test: hostile values into every input of every route ----
ODD_DIGITS = "²³¹⁰⁴⁹٠١٢٣٩۰۱۵१२०１２９𝟙𝟚߁"
ODD_HOSTS = ["a" * 64 + ".example", "a..example", ".example", "example..", "xn--a.example", "xn--.example",
             "-.example", "ex ample.org", "ex%00ample.org", "☃.example", "ｅｘａｍｐｌｅ.org", "a." * 127 + "a",
             "[2002:7f00:1::]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]", "[::ffff:127.0.0.1]", "[::127.0.0.1]",
             "[64:ff9b::7f00:1]", "[64:ff9b:1::a00:1]", "[fe80::1%25eth0]", "[::1", "127.1", "0x7f.1", "2130706433"]
HUGE = ["9" * 40, "-" + "9" * 40, str(2**31), str(2**63), str(2**64), "1e309", "-1e309", "NaN", "Infinity", "-0",
        "1_000", "0x10", "1.5"]
DURATIONS = ["P99999999999999999999D", "PT99999999999H", "P9999999W", "P999999999DT999999999H", "P1Y", "P1M",
             "-PT1H", "PT0S", "P", "PT", "P²D", "PT١H", "PT１２H", "P1DT", "PT1H\n", "pt1h"]
FIXED = ["", " ", "\x00", "a\x00b", "\r\n", "Camp\r\nBcc: attacker@evil.example", "\t", "\x1b[31m", "\x7f", "\x85",
         "\u2028", "\ufeff", "\ud7ff", "%00", "../..", "null", "true", "0", "-1", *ODD_DIGITS]

control_text = st.text(alphabet=st.characters(categories=["Cc"]) | st.sampled_from("aZ09 -:/.@_"), min_size=1,
                       max_size=24)
odd_numbers = st.text(alphabet=st.sampled_from(ODD_DIGITS + "0123456789"), min_size=1, max_size=12)
urls = st.builds(lambda scheme, host, rest: f"{scheme}://{host}{rest}", st.sampled_from(["http", "https"]),
                 st.sampled_from(ODD_HOSTS), st.sampled_from(["", "/", "/hook", ":8080/x", ":99999/"]))
hostile_text = st.one_of(st.sampled_from(FIXED), control_text, odd_numbers, st.sampled_from(HUGE),
                         st.sampled_from(DURATIONS), st.sampled_from(ODD_HOSTS), urls)
hostile_json = st.one_of(hostile_text, hostile_text, st.integers(-(2**80), 2**80),
                         st.floats(allow_nan=True, allow_infinity=True), st.none(), st.booleans(),
                         st.lists(hostile_text, max_size=3))
durations = st.one_of(st.sampled_from(DURATIONS), odd_numbers.map(lambda n: f"PT{n}H"),
                      st.integers(0, 10**30).map(lambda n: f"P{n}D"))
# Values aimed at what a slot holds, mixed with everything else: a URL field mostly gets odd URLs, and so on.
AIMED = {("url", "homeserver", "api_base", "source_url", "escalate_url"): urls,
         ("reminders", "escalate_after"): durations,
         ("limit", "after", "after_version", "cursor", "birth_year"): st.one_of(
             st.sampled_from(HUGE), odd_numbers, st.integers(-(2**70), 2**70))}


def aimed(slot: "Slot", general: st.SearchStrategy) -> st.SearchStrategy:
    name = slot.at[-2] if slot.at and isinstance(slot.at[-1], int) else (slot.at[-1] if slot.at else slot.name)
    for names, strategy in AIMED.items():
        if name in names:
            return st.one_of(strategy, strategy, general)
    return general


# What a real HTTP server passes on in a header: visible Latin-1 and tabs (it refuses other control characters).
VISIBLE_LATIN1 = "".join(chr(c) for c in (*range(0x20, 0x7f), *range(0xa0, 0x100)))
header_text = st.one_of(st.sampled_from(["\xb2", "1\xb2", '"\xb9"', "W/\"\xb3\"", "9" * 20, "", "-1"]),
                        st.text(alphabet=st.sampled_from(VISIBLE_LATIN1), max_size=20))

WHEN = "2026-02-01T10:00:00Z"
SUBSCRIPTION = {"name": "desk", "channel": {"kind": "webhook", "url": "https://hooks.example/h"},
                "filter": {"countries": ["FR"], "tags": ["x"], "event_types": ["Removed"], "min_severity": "high"},
                "reminders": ["PT24H"], "escalate_after": "PT1H",
                "escalate_to": {"kind": "email", "to": ["desk@ngo.example"]}}
# A valid body per operation; the fuzz replaces one of its values at a time.
BODIES: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("POST", "/v1/cases"): [{"person": {"name": "N", "aliases": ["A"], "birth_year": 1980, "nationality": "UZ"},
                             "country": "FR", "origin_country": "UZ", "tags": ["t"], "teams": ["hq"],
                             "summary": "S", "timezone": "Europe/Paris", "occurred_at": WHEN,
                             "date_precision": "day"}],
    ("POST", "/v1/cases/{case_id}/events"): [
        {"type": "Detained", "occurred_at": WHEN, "data": {"place": "P", "authority": "A", "note": "N"},
         "source": {"url": "https://example.org/a", "title": "T", "reliability": "high"}},
        {"type": "HearingScheduled", "occurred_at": WHEN, "data": {"court": "C", "kind": "K", "at": WHEN}},
        {"type": "RemovalScheduled", "occurred_at": WHEN, "data": {"window_start": WHEN,
                                                                   "window_end": "2026-02-02T10:00:00Z",
                                                                   "destination": "UZ", "route": "R"}},
        {"type": "PersonDetailsUpdated", "occurred_at": WHEN, "data": {"person": {"name": "N", "birth_year": 1980}}},
        {"type": "ExtraditionRequested", "occurred_at": WHEN, "data": {"requesting_state": "UZ", "charges": ["C"]}},
        {"type": "SourceAttached", "occurred_at": WHEN, "data": {"url": "https://example.org/", "title": "T",
                                                                 "sha256": "0" * 64}},
        {"type": "EventRetracted", "occurred_at": WHEN, "event_id": "00000000-0000-4000-8000-000000000009",
         "data": {"event_id": "00000000-0000-4000-8000-000000000001", "reason": "R"}},
    ],
    ("POST", "/v1/cases/{case_id}/erase"): [{"reason": "R"}],
    ("POST", "/v1/subscriptions"): [
        SUBSCRIPTION,
        {"name": "m", "channel": {"kind": "matrix", "homeserver": "https://matrix.example", "room_id": "!r:x.org",
                                  "access_token": "tok"}},
        {"name": "t", "channel": {"kind": "telegram", "bot_token": "1:a", "chat_id": "-100",
                                  "api_base": "https://api.telegram.org"}},
    ],
    ("POST", "/v1/channels/preview"): [{"channel": {"kind": "email", "to": ["a@ngo.example"]}, "kind": "test"},
                                       {"channel": {"kind": "slack", "url": "https://hooks.example/s"}}],
}
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/ack/{token}"): {"token": "a1.x"},
    ("POST", "/signin"): {"api_key": "k", "csrf_token": "t", "next": "/", "timezone": "UTC"},
    ("POST", "/settings/timezone"): {"timezone": "Europe/Paris", "next": "/"},
    ("POST", "/cases/new"): {"name": "N", "aliases": "A\nB", "birth_year": "1980", "nationality": "UZ",
                             "country": "FR", "tags": "a, b", "summary": "S", "occurred_at": "2026-02-01T10:00",
                             "date_precision": "day"},
    ("POST", "/cases/{case_id}/events"): {"type": "HearingScheduled", "court": "C", "kind": "K",
                                          "at": "2026-03-01T10:00", "note": "N", "occurred_at": "2026-02-01T10:00",
                                          "source_url": "https://example.org/", "source_title": "T"},
    ("POST", "/alerts/{alert_id}/ack"): {"next": "/alerts"},
    ("POST", "/subscriptions"): {"name": "n", "channel_kind": "webhook", "url": "https://hooks.example/h",
                                 "countries": "FR", "tags": "x", "reminders": "PT24H", "escalate_after": "PT1H",
                                 "escalate_kind": "webhook", "escalate_url": "https://hooks.example/e",
                                 "min_severity": "high"},
    ("POST", "/deliveries/{delivery_id}/retry"): {"next": "/subscriptions"},
}


@dataclass(frozen=True)
class Slot:
    where: str  # path, query, header, json or form
    name: str
    body: int = 0  # which base body, for json slots
    at: tuple = ()  # where in that body, for json slots


@dataclass
class Target:
    method: str
    path: str
    slots: list[Slot] = field(default_factory=list)


def _leaves(value: Any, at: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [at + (k,) for k in value] + [p for k, v in value.items() for p in _leaves(v, at + (k,))
                                             if isinstance(v, (dict, list))]
    if isinstance(value, list):
        return [at + (i,) for i in range(len(value))] + [p for i, v in enumerate(value)
                                                         for p in _leaves(v, at + (i,)) if isinstance(v, (dict, list))]
    return []


def api_targets(app) -> list[Target]:
    """Every operation of the app's own OpenAPI, with every parameter and every value of a valid body."""
    targets = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            target = Target(method.upper(), path, [Slot(p["in"], p["name"]) for p in operation.get("parameters", [])])
            if "requestBody" in operation:
                bases = BODIES.get((target.method, path), [{}])
                target.slots += [Slot("json", "", i, at) for i, base in enumerate(bases) for at in _leaves(base)]
                target.slots.append(Slot("json", "(whole body)", 0, ()))
            targets.append(target)
    return targets


def page_targets() -> list[Target]:
    """Every dashboard route (not in the OpenAPI): path and query parameters from its signature, form fields above."""
    targets = []
    for route in pages.router.routes + ack_pages.router.routes:
        for method in route.methods:
            path_params = re.findall(r"{(\w+)}", route.path)
            query = [name for name, p in inspect.signature(route.endpoint).parameters.items()
                     if p.annotation in ("str", str) and name not in path_params]
            form = FORMS.get((method, route.path), {"field": ""} if method == "POST" else {})
            targets.append(Target(method, route.path, [Slot("path", n) for n in path_params]
                                  + [Slot("query", n) for n in query] + [Slot("form", n) for n in form]))
    return targets


def _put(body: Any, at: tuple, value: Any) -> Any:
    if not at:
        return value
    body = copy.deepcopy(body)
    inner = body
    for key in at[:-1]:
        inner = inner[key]
    inner[at[-1]] = value
    return body


def send(client, target: Target, ids: dict[str, str], slot: Slot, value: Any):
    params = {name: ids.get(name, ids["case_id"]) for name in re.findall(r"{(\w+)}", target.path)}
    path = target.path.format(**{k: quote(str(value) if slot.where == "path" and k == slot.name else v, safe="")
                                 for k, v in params.items()})
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if slot.where == "query":
        kwargs["params"] = {slot.name: str(value)}
    elif slot.where == "header":
        kwargs["headers"] = {slot.name: str(value).encode("latin-1")}
    elif slot.where == "json":
        base = BODIES.get((target.method, target.path), [{}])[slot.body]
        kwargs["content"] = json.dumps(_put(base, slot.at, value), allow_nan=True)
        kwargs["headers"] = {"content-type": "application/json"}
    if target.method == "POST" and (slot.where == "form" or (target.method, target.path) in FORMS):
        form = dict(FORMS.get((target.method, target.path), {}))
        if slot.where == "form":
            form[slot.name] = str(value)
        kwargs["data"] = form
    if slot.where == "header":
        return asgi_request(client, target.method, path, **kwargs)
    return client.request(target.method, path, **kwargs)


@pytest.fixture
def fuzzed(client, guarded):
    """A case with an alert, a subscription and a delivery, their ids, and no rate limit in the way."""
    guarded.rate_limiter.per_minute = 0
    guarded.settings.rate_limit_per_minute = 0
    case_id = open_case(client)
    assert append(client, case_id, "Detained", {"place": "P"}).status_code == 201
    sub = client.post("/v1/subscriptions", json={"name": "s", "channel": {"kind": "webhook",
                                                                          "url": "https://hooks.example/h"}})
    assert sub.status_code == 201, sub.text
    alert_id = client.get("/v1/alerts").json()["items"][0]["id"]
    deliveries = client.get("/v1/deliveries").json()["items"]
    delivery_id = deliveries[0]["id"] if deliveries else "00000000-0000-4000-8000-000000000000"
    return {"case_id": case_id, "alert_id": alert_id, "sub_id": sub.json()["id"], "delivery_id": delivery_id}


def test_the_fuzz_reaches_every_route(client):
    covered = {(t.method, t.path) for t in api_targets(client.app) + page_targets()}
    assert len(covered) >= 44
    for route in pages.router.routes + ack_pages.router.routes:
        assert {(m, route.path) for m in route.methods} <= covered
    assert ("POST", "/v1/cases/{case_id}/events") in covered and ("GET", "/signin") in covered


def test_no_hostile_input_makes_a_server_error(client, fuzzed):
    for target in api_targets(client.app) + page_targets():
        if not target.slots:
            continue
        values = {"header": header_text, "json": hostile_json}

        # 30 examples a route, and more for a route with many inputs so that each is hit a few times
        @given(slot=st.sampled_from(target.slots), data=st.data())
        @settings(max_examples=min(200, 30 + 3 * len(target.slots)), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(slot, data):
            value = data.draw(aimed(slot, values.get(slot.where, hostile_text)), label="value")
            response = send(client, target, fuzzed, slot, value)
            assert response.status_code < 500, (target.method, target.path, slot, value, response.text[:300])
        check()


@pytest.mark.parametrize("url", ["http://127.1:99999/", "https://hooks.ngo.example:0/x", "https://h.example:70000/"])
def test_a_channel_port_out_of_range_is_refused_and_nothing_is_stored(client, url):
    """The fuzz found it: httpx accepts port 99999, urllib does not, and the subscription was stored before its
    answer failed with a 500."""
    response = client.post("/v1/subscriptions", json={"name": "p", "channel": {"kind": "webhook", "url": url}})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:3] == ["body", "channel", "webhook"]
    assert client.get("/v1/subscriptions").json()["items"] == []


def test_a_subscription_name_longer_than_its_column_is_a_422_not_a_500(client):
    """Found by the fuzz test on PostgreSQL: a 300-character name passed validation and overflowed varchar(200)."""
    body = {"name": "a." * 120, "channel": {"kind": "webhook", "url": "https://hooks.example.org/x"}}
    refused = client.post("/v1/subscriptions", json=body)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.post("/v1/subscriptions", json={**body, "name": "a" * 200}).status_code == 201
