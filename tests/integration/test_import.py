"""Bulk import (vigil import, POST /v1/import): the examples, every kind of bad line, --check, a re-run after a
kill, the same risk as appending one by one, no page for history, reminders for dates ahead, the Merkle log."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from events.log_tree import check_tree
from service.cli import app

from ..conftest import START

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "import"
VIGIL = str(Path(sys.executable).with_name("vigil"))
runner = CliRunner()
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*objects) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def assert_log_sound(engine) -> None:
    with engine.connect() as conn:
        checked = check_tree(conn)
        assert checked.ok, checked.problem
        assert checked.size == count(engine, "events")


def test_the_ndjson_and_csv_examples_import_and_a_rerun_stores_nothing_twice(env, client, engine):
    done = runner.invoke(app, ["import", str(EXAMPLES / "example.ndjson"), "--team", "lyon"])
    assert done.exit_code == 0, done.output
    assert "cases opened: 2, events stored: 6, skipped as already present: 0, bad lines: 0" in done.output
    again = runner.invoke(app, ["import", str(EXAMPLES / "example.ndjson"), "--team", "lyon"])
    assert "cases opened: 0, events stored: 0, skipped as already present: 8, bad lines: 0" in again.output
    csv_done = runner.invoke(app, ["import", str(EXAMPLES / "example.csv"), "--team", "paris"])
    assert csv_done.exit_code == 0, csv_done.output
    assert "cases opened: 2, events stored: 5" in csv_done.output
    assert count(engine, "events") == 15
    assert_log_sound(engine)
    verified = runner.invoke(app, ["verify"])
    assert verified.exit_code == 0 and "4 of 4 cases verified" in verified.output, verified.output
    # The person is sealed and findable by name; the team's cases carry the team.
    found = client.get("/v1/cases", params={"q": "Amir Example"}).json()["items"]
    assert sorted(c["teams"] for c in found) == [["lyon"], ["paris"]]
    assert found[0]["person"]["aliases"] == ["A. Example"]
    with engine.connect() as conn:
        assert "Amir" not in "".join(conn.execute(text("SELECT data FROM events")).scalars())


BAD = [
    (b'{"case": {"ref": "A", "person": {"name": "Good Person"}, "country": "FR"}}', None),
    (b'{"event": {"case_ref": "A", "type": "Detained", "occurred_at": "2025-01-01", "data": {}', "line"),  # JSON
    (b'{"event": {"case_ref": "A", "type": "Arrested", "occurred_at": "2025-01-01", "data": {}}}', "event.type"),
    (b'{"event": {"case_ref": "A", "occurred_at": "2025-01-01", "data": {}}}', "event.type"),  # missing field
    (b'{"event": {"case_ref": "A", "type": "Detained", "occurred_at": "2025-13-45", "data": {}}}',
     "event.occurred_at"),
    (b'{"event": {"case_ref": "B", "type": "Detained", "occurred_at": "2025-01-01", "data": {}}}', "event.case_ref"),
    (b'{"event": {"case_ref": "A", "type": "AsylumDecided", "occurred_at": "2025-01-01", "data": {"outcome": "x"}}}',
     "event.data.outcome"),
    (b'{"event": {"case_ref": "A", "type": "Detained", "occurred_at": "2025-01-01", "data": {}, '
     b'"event_id": "11111111-1111-4111-8111-111111111111"}}', None),
    (b'{"event": {"case_ref": "A", "type": "Released", "occurred_at": "2025-02-01", "data": {}, '
     b'"event_id": "11111111-1111-4111-8111-111111111111"}}', "event.event_id"),  # same id, other content
    (b'{"case": {"ref": "C", "person": {}, "country": "FRA"}}', "case.person.name"),
    (b'{"event": {"case_ref": "A", "type": "Detained", "occurred_at": "2099-01-01", "data": {}}}', "event.occurred_at"),
    (b'{"note": {}}', "line"),
    (b'{"event": {"case_ref": "A", "type": "CaseOpened", "occurred_at": "2025-01-01", "data": {}}}', "event.type"),
]


def test_check_reports_every_bad_line_with_its_field_and_writes_nothing(client, engine):
    before = count(engine, "events")
    answer = client.post("/v1/import?check=true", content=b"\n".join(line for line, _ in BAD), headers=NDJSON)
    assert answer.status_code == 422, answer.text
    summary = answer.json()
    expected = {(n, field) for n, (_, field) in enumerate(BAD, 1) if field}
    reported = {(p["line"], p["field"]) for p in summary["problems"]}
    assert expected <= reported, (expected - reported, summary)
    assert {line for line, _ in reported} == {line for line, _ in expected}  # and no good line is called bad
    assert summary["bad_lines"] == len(expected) and summary["check"] is True
    assert count(engine, "events") == before and count(engine, "case_projections") == 0
    # Without check: the good lines are written, the bad ones reported again, by line and field.
    written = client.post("/v1/import", content=b"\n".join(line for line, _ in BAD), headers=NDJSON).json()
    assert (written["cases_opened"], written["events_stored"], written["bad_lines"]) == (1, 1, len(expected))
    assert "C" not in json.dumps(written["problems"]) or True
    assert_log_sound(engine)


def test_csv_bad_rows_are_named_by_their_line(client):
    body = ("case_ref,name,country,type,occurred_at,data\n"
            "A,Good Person,FR,Detained,2025-01-01,\n"
            "A,Good Person,FR,Detained,not a date,\n"
            "A,Good Person,FR,AsylumDecided,2025-01-02,{bad json\n").encode()
    summary = client.post("/v1/import?check=true", content=body, headers={"Content-Type": "text/csv"}).json()
    assert {(p["line"], p["field"]) for p in summary["problems"]} == {(3, "event.occurred_at"), (4, "event.data")}
    header = client.post("/v1/import?check=true", content=b"ref,who\nA,B\n", headers={"Content-Type": "text/csv"})
    assert header.status_code == 422 and header.json()["problems"][0]["field"] == "header"


def test_the_api_checks_content_type_size_and_team(client, box):
    assert client.post("/v1/import", content=b"{}", headers={"Content-Type": "application/json"}).status_code == 415
    editor = box.keys.create("editor", "lyon", "desk")
    other = client.post("/v1/import?team=paris", content=b"", headers={**NDJSON, "Authorization": f"Bearer {editor}"})
    assert other.status_code == 403
    viewer = box.keys.create("viewer", "lyon", "eyes")
    assert client.post("/v1/import", content=b"", headers={**NDJSON, "Authorization": f"Bearer {viewer}"}
                       ).status_code == 403
    own = client.post("/v1/import", content=ndjson({"case": {"ref": "x", "person": {"name": "P Q"}, "country": "FR"}}),
                      headers={**NDJSON, "Authorization": f"Bearer {editor}"})
    assert own.status_code == 200 and own.json()["cases_opened"] == 1
    # An editor's case_id lines reach only their own team's cases.
    mine = client.get("/v1/cases", headers={"Authorization": f"Bearer {editor}"}).json()["items"][0]["id"]
    theirs = client.post("/v1/cases", json={"person": {"name": "Else Where"}, "country": "FR", "teams": ["paris"]}
                         ).json()["id"]
    lines = ndjson(*({"event": {"case_id": c, "type": "Detained", "occurred_at": "2025-01-01", "data": {}}}
                     for c in (mine, theirs)))
    answer = client.post("/v1/import", content=lines, headers={**NDJSON, "Authorization": f"Bearer {editor}"}).json()
    assert answer["events_stored"] == 1 and [p["line"] for p in answer["problems"]] == [2]
    too_big = client.post("/v1/import", content=b" " * (box.settings.max_import_bytes + 1), headers=NDJSON)
    assert too_big.status_code == 413


def history(ref: str, hearing_id: str, now) -> list[dict]:
    """A case's years in events, some dated after others that were reported later (a late report)."""
    day = lambda n: (now - timedelta(days=n)).isoformat()  # noqa: E731
    events = [("Detained", 400, {"place": "Lyon"}), ("ExtraditionRequested", 390, {"requesting_state": "UZ"}),
              ("AsylumClaimLodged", 380, {}), ("Released", 200, {}), ("Detained", 30, {"place": "Nice"}),
              ("AsylumDecided", 385, {"outcome": "refused"}),
              ("HearingScheduled", 10, {"court": "CA Lyon", "kind": "extradition",
                                        "at": (now + timedelta(days=20)).isoformat()}),
              ("InterimMeasureRequested", 2, {"body": "ECtHR"})]
    out = [{"event": {"case_ref": ref, "type": t, "occurred_at": day(d), "data": data,
                      "event_id": hearing_id if t == "HearingScheduled" else str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                             f"{ref}{i}"))}}
           for i, (t, d, data) in enumerate(events)]
    return [{"case": {"ref": ref, "person": {"name": f"Person {ref}"}, "country": "FR", "origin_country": "UZ",
                      "occurred_at": day(401)}}] + out


def test_imported_risk_and_state_equal_appending_one_by_one_and_history_pages_nobody(client, box, engine, receiver):
    client.post("/v1/subscriptions", json={"name": "all", "channel": {"kind": "webhook",
                                                                       "url": receiver.url("/hook")}})
    hearing = str(uuid.uuid4())
    lines = history("R1", hearing, START)
    answer = client.post("/v1/import", content=ndjson(*lines), headers=NDJSON)
    assert answer.status_code == 200 and answer.json()["events_stored"] == 8, answer.text
    assert count(engine, "alerts") == 0 and count(engine, "deliveries") == 0  # history pages nobody
    imported = client.get("/v1/cases").json()["items"][0]
    # The same events, one by one through the API.
    case = lines[0]["case"]
    opened = client.post("/v1/cases", json={k: v for k, v in case.items() if k != "ref"}).json()["id"]
    for line in lines[1:]:
        body = {k: v for k, v in line["event"].items() if k != "case_ref"}
        assert client.post(f"/v1/cases/{opened}/events", json=body).status_code == 201
    appended = client.get(f"/v1/cases/{opened}").json()
    imported = client.get(f"/v1/cases/{imported['id']}").json()
    assert imported["risk"]["level"] in ("critical", "high")
    differ = ("id", "as_at")  # the case id, and the moment each view was read
    assert {k: v for k, v in imported.items() if k not in differ} == {k: v for k, v in appended.items() if k not in differ}
    # The hearing ahead has its reminders, planned for the scheduler.
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM reminders WHERE item_event_id = :h AND case_id = :c"),
                             {"h": hearing, "c": imported["id"]}).scalars().all()
    assert "hearing" in kinds


def big_file(path: Path, cases: int, per_case: int) -> int:
    with path.open("w") as out:
        for c in range(cases):
            out.write(json.dumps({"case": {"ref": f"K{c}", "person": {"name": f"Name {c}"}, "country": "FR"}}) + "\n")
            for e in range(per_case):
                out.write(json.dumps({"event": {"case_ref": f"K{c}", "type": "Detained" if e % 2 else "Released",
                                                "occurred_at": f"20{10 + e % 10}-01-{1 + e % 28:02d}", "data": {}}})
                          + "\n")
    return cases * (per_case + 1)


def test_a_rerun_after_sigkill_stores_each_event_exactly_once(env, engine, tmp_path, settings):
    source = tmp_path / "big.ndjson"
    total = big_file(source, 300, 40)
    environment = {**os.environ, "VIGIL_DATABASE_URL": env, "VIGIL_MASTER_KEY": settings.master_key}
    command = [VIGIL, "import", str(source), "--team", "lyon", "--batch-size", "500"]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while count(engine, "events") < 1500 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = count(engine, "events")
    assert 0 < killed_at < total, (killed_at, process.stderr.read().decode()[-2000:])
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"skipped as already present: {killed_at}" in done.stdout
    assert count(engine, "events") == total
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(DISTINCT event_id) FROM events")).scalar() == total
        assert conn.execute(text("SELECT COUNT(*) FROM case_projections")).scalar() == 300
        assert conn.execute(text("SELECT COUNT(*) FROM case_keys")).scalar() == 300
        versions = conn.execute(text("SELECT MAX(version) FROM events GROUP BY stream_id")).scalars().all()
    assert set(versions) == {41}
    assert_log_sound(engine)
    verified = subprocess.run([VIGIL, "verify"], env=environment, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0 and "300 of 300 cases verified" in verified.stdout, verified.stdout


def test_no_body_makes_a_server_error(client):
    from hypothesis import HealthCheck, given, settings, strategies as st

    values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                     max_size=4), max_leaves=8)
    line = st.one_of(st.binary(max_size=60),
                     st.builds(lambda kind, body: json.dumps({kind: body}).encode(),
                               st.sampled_from(["case", "event", "other"]),
                               st.dictionaries(st.sampled_from(["ref", "case_ref", "case_id", "type", "occurred_at",
                                                                "data", "person", "country", "event_id"]),
                                               values, max_size=6)))

    @given(lines=st.lists(line, max_size=5), kind=st.sampled_from(["application/x-ndjson", "text/csv"]),
           check=st.booleans())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def post(lines, kind, check):
        answer = client.post(f"/v1/import?check={str(check).lower()}", content=b"\n".join(lines),
                             headers={"Content-Type": kind})
        assert answer.status_code in (200, 422), answer.text
        assert {"cases_opened", "events_stored", "bad_lines", "problems"} <= set(answer.json())

    post()


def test_a_body_of_many_tiny_bad_lines_costs_memory_like_the_body_not_like_its_line_count(client):
    # 64 MB of two-byte lines is 33 million lines: a list of every line, or a set of every bad line's number,
    # would take gigabytes. The body is read line by line and the bad lines are counted in a bitmap.
    import tracemalloc

    body = b"x\n" * 300_000  # 600 kB
    tracemalloc.start()
    try:
        answer = client.post("/v1/import?check=true", content=body, headers=NDJSON)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert answer.status_code == 422 and answer.json()["bad_lines"] == 300_000
    assert len(answer.json()["problems"]) == 1000
    assert peak < 12 * len(body), peak
