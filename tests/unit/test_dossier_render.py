"""The dossier renderer as a pure function: every event field told, dates at precision, the appendix, no secrets."""
from __future__ import annotations

import io
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest

from events.catalogue import EVENT_TYPES, catalogue_document
from service import dossier
from service.dossier import Integrity, dossier_html, dossier_pdf, read_checkpoint
from service.event_words import DETAIL_FIELDS, SENTENCES, EventWords, moment_words, when_words

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
IDS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
CHECKPOINT = ("vigil.example.org/log\n7\nS2V5IHJvb3QgaGFzaCBvZiBzZXZlbiBsZWF2ZXMhIQ==\n\n"
              "\u2014 vigil.example.org/log AAAAAGFzaWduYXR1cmU=\n\u2014 witness.example.net BBBBBHNpZw==\n")


def _event(version, type_, data, occurred_at="2023-12-14T00:00:00.000000Z", precision="exact", **extra):
    return {"event_id": f"e{version}", "type": type_, "version": version, "position": version,
            "occurred_at": occurred_at, "date_precision": precision, "recorded_at": "2024-01-02T10:00:00.000000Z",
            "actor": "key:abc", "data": data, "source": None, "retracted_by": None, "hash": f"{version:02d}" * 32,
            **extra}


def export(events=None, person=None, erased=False, alerts=(), deliveries=(), **case) -> dict:
    """A dossier as CaseService.export returns it, with only what the renderer reads."""
    base = {"id": "0c0ffee0-0000-4000-8000-000000000000", "status": "in_proceedings", "after_return": None,
            "risk": {"level": "high", "reasons": ["hearing soon"]}, "detained": True, "detained_place": "CRA",
            "interim_measures": [], "upcoming": [], "country": "FR", "origin_country": "UZ",
            "summary": None, "timezone": "Europe/Paris", "personal_data_erased": erased, **case}
    if person is not None or erased:
        base["person"] = person
    return {"case": base, "events": events or [_event(1, "CaseOpened", {"person": person or {"erased": True},
                                                                          "country": "FR"})],
            "verify": {"ok": True, "events": 1, "head": "ab" * 32}, "alerts": list(alerts),
            "deliveries": list(deliveries), "exported_at": "2024-03-01T12:00:00.000000Z"}


# ---- every field of every event type is told ----
def _options(schema: dict) -> tuple:
    """Two different values a field may hold, so a sentence that ignores the field shows the same for both."""
    schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
    if "enum" in schema:
        return tuple(schema["enum"][:2])
    if schema.get("type") == "array":
        return (["charge one"], ["charge two"])
    if schema.get("type") == "integer":
        return (1981, 1982)
    if schema.get("format") == "date-time":
        return ("2024-05-06T07:08:00Z", "2025-09-10T11:12:00Z")
    if schema.get("format") == "uuid":
        return IDS
    pattern = schema.get("pattern", "")
    if "a-f" in pattern:
        return ("a" * 64, "b" * 64)
    if pattern.startswith("^https?"):
        return ("https://one.example.org/a", "https://two.example.org/b")
    if "{2}" in pattern:
        return ("AA", "BB")
    return ("first text", "second text")


FIELDS = [(t["type"], name, _options(schema)) for t in catalogue_document()
          for name, schema in t["schema"]["properties"].items()
          if name not in DETAIL_FIELDS and name != "person" and "$ref" not in schema]


@pytest.mark.parametrize("type_name,field,options", FIELDS, ids=[f"{t}.{f}" for t, f, _ in FIELDS])
def test_every_field_of_every_type_shows_in_its_sentence(type_name, field, options):
    properties = next(t for t in catalogue_document() if t["type"] == type_name)["schema"]["properties"]
    if type_name == "RemovalScheduled":  # `at`, or a window: never both
        keep = ("at",) if field == "at" else ("window_start", "window_end")
        properties = {k: v for k, v in properties.items() if k not in {"at", "window_start", "window_end"} - set(keep)}
    base = {name: _options(schema)[0] for name, schema in properties.items()
            if name not in DETAIL_FIELDS and name != "person" and "$ref" not in schema}
    words = EventWords("Europe/Paris", lambda event_id: f"entry {event_id}")
    told = words.sentence(type_name, base)
    assert "None" not in told and told[0].isupper()
    assert words.sentence(type_name, {**base, field: options[1]}) != told, f"{field} is not told"


def test_every_type_has_a_sentence_and_a_type_outside_the_catalogue_still_reads():
    words = EventWords(None, str)
    assert set(EVENT_TYPES) <= set(SENTENCES)
    assert words.sentence("VisaGranted", {"valid_until": "2025-01-01T00:00:00Z", "note": "x"}) == \
        "Visa granted: Valid until: 2025-01-01 00:00 UTC"


# ---- dates at their precision ----
def test_dates_at_their_precision():
    assert when_words("2023-11-01T00:00:00Z", "year", "Europe/Paris") == "2023"
    assert when_words("2023-11-01T00:00:00Z", "month", "Asia/Tokyo") == "November 2023"
    assert when_words("2023-12-14T00:00:00Z", "day", "America/New_York") == "14 Dec 2023"  # no time, no shift
    assert when_words("2023-12-14T09:30:00Z", "exact", "Europe/Paris") == "14 Dec 2023, 10:30 CET (09:30 UTC)"
    assert when_words("2023-07-14T09:30:00Z", "exact", None) == "14 Jul 2023, 09:30 UTC"
    assert moment_words("2023-12-14T23:30:00Z", "Europe/Paris") == "15 Dec 2023, 00:30 CET (14 Dec 2023, 23:30 UTC)"
    assert moment_words("2023-12-14T23:30:00Z", "Not/AZone") == "14 Dec 2023, 23:30 UTC"
    assert moment_words(None, "Europe/Paris") == ""


# ---- the page ----
PERSON = {"name": "Rustam <b>Example</b>", "aliases": ["R. E."], "birth_year": 1979, "nationality": "TJ"}


def test_title_person_timeline_order_retraction_and_escaping():
    events = [
        _event(1, "CaseOpened", {"person": PERSON, "country": "FR", "summary": "Line one\nline two"},
               "2024-01-05T08:00:00.000000Z"),
        _event(2, "Detained", {"place": "CRA Lyon", "authority": "Prefecture"}, "2023-11-01T00:00:00.000000Z",
               "month", retracted_by="e3", source={"url": "https://news.example.org/x?a=1&b=2", "title": "Report"}),
        _event(3, "EventRetracted", {"event_id": "e2", "reason": "Another person of that name"},
               "2024-01-06T08:00:00.000000Z"),
    ]
    html = dossier_html(export(events, person=PERSON), NOW)
    assert "<title>Dossier: Rustam &lt;b&gt;Example&lt;/b&gt;</title>" in html and "<b>Example" not in html
    assert html.index("November 2023") < html.index("5 Jan 2024, 09:00 CET (08:00 UTC)")  # by when it happened
    assert "Detained at CRA Lyon by Prefecture." in html
    assert 'class="retracted"' in html and "RETRACTED by #3" in html and "Another person of that name" in html
    assert "Retraction of an earlier entry (#2 Detained on November 2023)" in html
    assert 'href="https://news.example.org/x?a=1&amp;b=2"' in html
    assert "<em>Summary:</em> Line one\nline two" in html
    assert "prepared 1 Mar 2024, 13:00 CET (12:00 UTC)" in html


def test_an_erased_case_and_one_whose_names_this_role_may_not_see():
    erased = dossier_html(export(erased=True), NOW)
    assert "<h1>Erased person</h1>" in erased and "personal data of this case was erased" in erased
    assert "Case opened for personal data erased, in FR" in erased
    hidden = export(events=[_event(1, "CaseOpened", {"person": {"redacted": True}, "country": "FR"})])
    html = dossier_html(hidden, NOW)
    assert "<h1>Case 0c0ffee0</h1>" in html and "not shown to the role" in html
    assert "Case opened for personal data not shown" in html


def test_alerts_say_whom_they_reached_and_never_how():
    alert = {"id": "a1", "title": "Removal scheduled", "severity": "critical", "state": "acknowledged",
             "event_id": "e1", "raised_at": "2024-01-05T08:00:01.000000Z", "late": False,
             "acknowledged_at": "2024-01-05T08:10:00.000000Z", "acknowledged_by": "key:abc", "withdrawn_at": None}
    reached = [
        {"alert_id": "a1", "subscription_name": "Lyon lawyers", "channel_kind": "email", "target": "primary",
         "state": "delivered", "delivered_at": "2024-01-05T08:00:03.000000Z", "attempts": 1, "last_error": None},
        {"alert_id": "a1", "subscription_name": "Duty phone", "channel_kind": "slack", "target": "escalation",
         "state": "failed", "delivered_at": None, "attempts": 3,
         "last_error": "POST https://hooks.slack.com/services/T0/B0/s3cr3tT0ken: 500"},
    ]
    html = dossier_html(export(person=PERSON, alerts=[alert], deliveries=reached), NOW)
    assert "Lyon lawyers (email): delivered 5 Jan 2024, 09:00 CET (08:00 UTC)" in html
    assert "Duty phone (slack, escalation): <span class=\"failed\">failed</span> after 3 attempts" in html
    assert "Acknowledged 5 Jan 2024, 09:10 CET (08:10 UTC) by key:abc" in html
    assert "s3cr3tT0ken" not in html and "hooks.slack.com" not in html
    assert "No alerts were raised" in dossier_html(export(person=PERSON), NOW)


def test_the_integrity_appendix_shows_what_it_is_given_and_says_what_is_missing():
    events = [_event(1, "CaseOpened", {"person": PERSON, "country": "FR"}, log_index=41)]
    html = dossier_html(export(events, person=PERSON), NOW, Integrity(
        log_key="vigil.example.org/log+0a1b2c3d+AXyz", fingerprint="SHA256:0a1b2c", checkpoint=CHECKPOINT))
    assert "<code>vigil.example.org/log+0a1b2c3d+AXyz</code>" in html and "<code>SHA256:0a1b2c</code>" in html
    assert "7 entries, root hash <code>S2V5IHJvb3QgaGFzaCBvZiBzZXZlbiBsZWF2ZXMhIQ==</code>" in html
    assert "signed by vigil.example.org/log, witness.example.net" in html
    assert re.search(r"\n +1 +41  0101010101010101  Case opened\n?</pre>", html)
    assert "python3 verify.py bundle.zip" in html and "It cannot\nprove that what the entries say is true" in html
    bare = dossier_html(export(person=PERSON), NOW)
    assert bare.count("not available") == 4  # key, fingerprint, checkpoint, the event's log index
    odd = dossier_html(export(person=PERSON), NOW, Integrity(checkpoint="not a checkpoint"))
    assert "present but not readable as a checkpoint" in odd
    broken = export(person=PERSON)
    broken["verify"] = {"ok": False, "bad_version": 1, "reason": "hash mismatch"}
    assert "BROKEN at entry #1: hash mismatch" in dossier_html(broken, NOW)


def test_read_checkpoint():
    parsed = read_checkpoint(CHECKPOINT)
    assert (parsed.origin, parsed.size, parsed.signers) == ("vigil.example.org/log", 7,
                                                            ("vigil.example.org/log", "witness.example.net"))
    assert read_checkpoint("origin\nseven\nroot\n") is None and read_checkpoint(None) is None


def test_the_pdf_keeps_the_text():
    person = {**PERSON, "name": "Zarina Printed"}
    events = [_event(1, "CaseOpened", {"person": person, "country": "FR"}),
              _event(2, "SourceAttached", {"title": "Court record", "url": "https://court.example.org/r"})]
    pdf = dossier_pdf(export(events, person=person), NOW)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert pdf.startswith(b"%PDF-") and len(reader.pages) >= 1
    assert "Zarina Printed" in text and "Source attached: Court record" in text and "Page 1 of" in text


def test_rendering_the_pdf_requests_no_url(monkeypatch):
    """Were a page ever to hold an image or a stylesheet by URL, the server still would not fetch it."""
    asked: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        here = f"http://127.0.0.1:{server.server_port}"
        page = f'<link rel="stylesheet" href="{here}/style.css"><img src="{here}/pixel.png" alt="">Text'
        monkeypatch.setattr(dossier, "dossier_html", lambda *args: page)
        assert dossier.dossier_pdf(export(), NOW).startswith(b"%PDF-")
    finally:
        server.shutdown()
        server.server_close()
    assert asked == []
