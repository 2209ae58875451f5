"""The dossier through the API and the CLI: HTML and PDF for a case with history, alerts delivered, and erasure."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pypdf
from typer.testing import CliRunner

from events.catalogue import EVENT_TYPES
from service.cli import app

from .helpers.delivery import clock, drain  # noqa: F401 - clock: a fixture (the real now, for the receiver)

NAME = "Amina Dossier-Example"
URL_TOKEN = "tok3nInTheHookUrl"


def _append(client, case_id, type_, data, occurred_at, precision="exact", **extra):
    response = client.post(f"/v1/cases/{case_id}/events", json={
        "type": type_, "occurred_at": occurred_at, "date_precision": precision, "data": data, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def seeded_case(client, box, receiver) -> tuple[str, dict]:
    """A case in Paris time with dates at three precisions, a retraction, a source and a delivered alert."""
    sub = client.post("/v1/subscriptions", json={
        "name": "Paris lawyers", "channel": {"kind": "webhook", "url": receiver.url(f"/hook?token={URL_TOKEN}")},
        "filter": {"event_types": ["RemovalScheduled"]}})
    assert sub.status_code == 201, sub.text
    opened = client.post("/v1/cases", json={
        "person": {"name": NAME, "aliases": ["A. Example"], "birth_year": 1985, "nationality": "UZ"},
        "country": "FR", "origin_country": "UZ", "timezone": "Europe/Paris", "summary": "Fled in 2019."})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    _append(client, case_id, "AsylumClaimLodged", {"authority": "OFPRA"}, "2019-11-01T00:00:00Z", "month")
    wrong = _append(client, case_id, "Detained", {"place": "CRA Vincennes"}, "2023-12-14T00:00:00Z", "day")
    _append(client, case_id, "EventRetracted", {"event_id": wrong["event_id"], "reason": "Confused with a namesake"},
            "2023-12-15T09:00:00Z")
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    _append(client, case_id, "RemovalScheduled", {"at": soon.isoformat(), "destination": "UZ"},
            "2024-01-10T08:30:00Z", source={"url": "https://news.example.org/flight", "title": "Flight notice"})
    drain(box)
    assert receiver.at(f"/hook?token={URL_TOKEN}"), "the alert reached the receiver"
    return case_id, sub.json()


def _pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_dossier_tells_the_case_in_words_and_dates_at_their_precision(client, box, receiver):
    case_id, sub = seeded_case(client, box, receiver)
    answer = client.get(f"/v1/cases/{case_id}/export", params={"format": "html"})
    assert answer.status_code == 200 and "style-src 'sha256-" in answer.headers["content-security-policy"]
    html = answer.text
    assert f"<title>Dossier: {NAME}</title>" in html and f"<h1>{NAME}</h1>" in html
    assert "November 2019" in html and "Asylum claim lodged with OFPRA" in html  # month precision: no day
    assert "14 Dec 2023</span>" in html  # day precision: no time
    assert "15 Dec 2023, 10:00 CET (09:00 UTC)" in html  # exact: local with its zone, and UTC
    assert re.search(r'class="retracted".*?RETRACTED by #4[^<]*: Confused with a namesake', html, re.S)
    assert '<a href="https://news.example.org/flight" rel="noreferrer noopener">Flight notice</a>' in html
    assert re.search(r"Paris lawyers \(webhook\): delivered \d+ \w{3} \d{4}, \d\d:\d\d", html)
    words = re.sub(r"<[^>]+>", " ", html)
    camel = [t for t in EVENT_TYPES if sum(c.isupper() for c in t) > 1]  # "Detained" is a word either way
    assert not [t for t in camel if t in words], "types are told in words, not as CamelCase names"
    assert URL_TOKEN not in html and sub["secret"] not in html and "127.0.0.1" not in html
    assert "Log key</dt><dd>not available" in html  # until the transparency log is wired in


def test_the_pdf_has_the_same_dossier_on_numbered_a4_pages(client, box, receiver):
    case_id, sub = seeded_case(client, box, receiver)
    answer = client.get(f"/v1/cases/{case_id}/export", params={"format": "pdf"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    pages, text = _pdf_text(answer.content)
    assert pages >= 2  # the integrity appendix starts on a page of its own
    assert NAME in text and "Asylum claim lodged with OFPRA" in text and f"Page 1 of {pages}" in text
    assert URL_TOKEN not in text and sub["secret"] not in text
    page = pypdf.PdfReader(io.BytesIO(answer.content)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in points


def test_the_cli_writes_the_html_and_the_pdf(client, box, receiver, db_url, settings, monkeypatch, tmp_path):
    case_id, _ = seeded_case(client, box, receiver)
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    html = runner.invoke(app, ["export", "--case", case_id, "--format", "html"])
    assert html.exit_code == 0, html.output
    assert f"<h1>{NAME}</h1>" in html.output and "Paris lawyers (webhook): delivered" in html.output
    pdf = runner.invoke(app, ["export", "--case", case_id, "--format", "pdf"])
    assert pdf.exit_code == 0 and pdf.stdout_bytes.startswith(b"%PDF-")
    assert NAME in _pdf_text(pdf.stdout_bytes)[1]
    assert runner.invoke(app, ["export", "--case", case_id, "--format", "docx"]).exit_code == 2


def test_an_erased_case_shows_as_erased_with_no_name(client, box, receiver):
    case_id, _ = seeded_case(client, box, receiver)
    assert client.post(f"/v1/cases/{case_id}/erase", json={"reason": "request of the person"}).status_code == 200
    html = client.get(f"/v1/cases/{case_id}/export", params={"format": "html"}).text
    assert "<title>Dossier: Erased person</title>" in html and "<h1>Erased person</h1>" in html
    assert "personal data of this case was erased" in html and "Case opened for personal data erased" in html
    assert NAME not in html and "A. Example" not in html
    text = _pdf_text(client.get(f"/v1/cases/{case_id}/export", params={"format": "pdf"}).content)[1]
    assert "Erased person" in text and NAME not in text
