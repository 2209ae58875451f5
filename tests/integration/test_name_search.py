"""Search by name through the blind index: every spelling finds its case, other teams' cases never appear, erasure
removes the entries, and the database holds keyed hashes, never names."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from events.tables import name_index, name_index_state
from service.keys import KeyService

PEOPLE = {"akhmedov": {"name": "Ilhom Akhmedov", "aliases": ["Ilkhom Sharipov"]},
          "khudayramov": {"name": "Rustam Khudayramov"},
          "celik": {"name": "Şükrü Çelik"},
          "other": {"name": "Ivan Petrov"}}
SEARCHES = [("Akhmedov", "akhmedov"), ("Ahmedov", "akhmedov"), ("Axmedov", "akhmedov"), ("Ахмедов", "akhmedov"),
            ("ilhom AKHMEDOV", "akhmedov"), ("Sharipov", "akhmedov"), ("Ильхом Шарипов", "akhmedov"),
            ("Hudayramov", "khudayramov"), ("Khudayramov", "khudayramov"), ("Худайрамов", "khudayramov"),
            ("Sukru Celik", "celik"), ("Shukru Chelik", "celik"), ("Çelik", "celik")]


def as_(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def open_case(client, person: dict, headers: dict | None = None) -> str:
    response = client.post("/v1/cases", json={"person": person, "country": "TR"}, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def found(client, q: str, headers: dict | None = None, **params) -> list[str]:
    response = client.get("/v1/cases", params={"q": q, **params}, headers=headers or {})
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


@pytest.fixture
def cases(client):
    return {label: open_case(client, person) for label, person in PEOPLE.items()}


@pytest.mark.parametrize("q, label", SEARCHES)
def test_every_spelling_finds_its_case_and_no_other(client, cases, q, label):
    assert found(client, q) == [cases[label]]


def test_a_name_typed_in_part_of_nothing_finds_nothing(client, cases):
    assert found(client, "Smith") == [] and found(client, "Akhmedov Petrov") == []


def test_filters_still_apply_to_what_the_search_found(client, cases):
    assert found(client, "Akhmedov", country="TR") == [cases["akhmedov"]]
    assert found(client, "Akhmedov", country="DE") == []
    assert found(client, "Akhmedov", status="removed") == []


def test_an_update_of_the_person_moves_the_index_with_it(client, cases):
    case_id = cases["other"]
    response = client.post(f"/v1/cases/{case_id}/events", json={
        "type": "PersonDetailsUpdated", "occurred_at": "2026-01-01T00:00:00Z",
        "data": {"person": {"aliases": ["Ivan Petroff", "Jo‘rayev"]}}})
    assert response.status_code == 201, response.text
    assert found(client, "Dzhuraev") == [case_id] and found(client, "Petrov") == [case_id]
    client.post(f"/v1/cases/{case_id}/events", json={
        "type": "PersonDetailsUpdated", "occurred_at": "2026-01-02T00:00:00Z",
        "data": {"person": {"name": "Ivan Sidorov", "aliases": []}}})
    assert found(client, "Sidorov") == [case_id] and found(client, "Dzhuraev") == []
    assert found(client, "Petrov") == []  # the index follows the person as they now stand


def test_another_teams_case_never_appears(client, box):
    keys = KeyService(box.engine, box.clock)
    alpha, beta = (keys.create("editor", team, f"{team} editor") for team in ("alpha", "beta"))
    theirs = open_case(client, {"name": "Ilhom Akhmedov"}, as_(alpha))
    ours = open_case(client, {"name": "Akhmedov Ilkhom"}, as_(beta))
    assert found(client, "Ахмедов", as_(beta)) == [ours]
    assert found(client, "Ахмедов", as_(alpha)) == [theirs]
    assert sorted(found(client, "Ахмедов")) == sorted([ours, theirs])  # an admin sees every team's


def test_a_role_that_may_not_see_names_may_not_search_them(client, box, cases):
    viewer = KeyService(box.engine, box.clock).create("viewer", "rapid-response", "viewer")
    response = client.get("/v1/cases", params={"q": "Akhmedov"}, headers=as_(viewer))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "q"]


def test_erasure_removes_the_index_entries(client, box, cases):
    case_id = cases["akhmedov"]
    with box.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(name_index.c.case_id == case_id)).scalar() > 0
    assert client.post(f"/v1/cases/{case_id}/erase", json={"reason": "asked"}).status_code == 200
    assert found(client, "Akhmedov") == [] and found(client, "Sharipov") == []
    with box.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(name_index.c.case_id == case_id)).scalar() == 0
    assert found(client, "Hudayramov") == [cases["khudayramov"]]


def test_an_update_racing_an_erasure_indexes_nothing(client, box, cases):
    """A PersonDetailsUpdated sealed just before an erasure committed reaches the index step after it."""
    case_id = cases["celik"]
    assert client.post(f"/v1/cases/{case_id}/erase").status_code == 200
    with box.cases.repository.locked() as conn:
        assert box.cases._reindex(conn, case_id, {"name": "Late Name"}) is False
    with box.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(name_index.c.case_id == case_id)).scalar() == 0


def test_the_index_holds_no_name(box, cases):
    with box.engine.connect() as conn:
        rows = conn.execute(select(name_index.c.case_id, name_index.c.hash)).all()
    assert {r.case_id for r in rows} == set(cases.values())
    stored = b"".join(bytes(r.hash) for r in rows)
    assert all(len(bytes(r.hash)) == 32 for r in rows)
    for person in PEOPLE.values():
        for name in [person["name"], *person.get("aliases", [])]:
            for part in name.split():
                for form in {part, part.lower(), part.casefold()}:
                    assert form.encode() not in stored
    for key in ("ahmedov", "hudairamov", "celik", "sukru", "petrov"):
        assert key.encode() not in stored


def test_before_reindex_search_opens_the_cases_and_reindex_fills_the_index(client, box, cases):
    with box.engine.begin() as conn:  # as a database upgraded from before the index: rows missing, incomplete
        conn.execute(name_index.delete())
        conn.execute(update(name_index_state).values(complete=False))
    assert found(client, "akhmedov") == [cases["akhmedov"]]  # the old substring search, opening every case
    assert found(client, "Ахмедов") == []
    assert box.cases.reindex_all() == len(cases)
    assert found(client, "Ахмедов") == [cases["akhmedov"]]
    with box.engine.connect() as conn:
        assert conn.execute(select(name_index_state.c.complete)).scalar() is True



def test_an_upgrade_of_a_database_with_cases_leaves_the_index_to_fill(tmp_path):
    from datetime import datetime, timezone

    from events.engine import make_engine
    from events.migrations import upgrade
    from events.tables import case_keys

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0013")
    with engine.begin() as conn:  # a case from before the index (its key alone decides "had cases")
        conn.execute(case_keys.insert().values(case_id="c", wrapped_key=b"x", created_at=datetime.now(timezone.utc)))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(name_index_state.c.complete)).scalar() is False
    engine.dispose()


def test_vigil_names_reindex_fills_the_index(client, box, cases, db_url, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from service.cli import app

    with box.engine.begin() as conn:
        conn.execute(name_index.delete())
        conn.execute(update(name_index_state).values(complete=False))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["names", "reindex"])
    assert result.exit_code == 0 and f"indexed the names of {len(cases)} cases" in result.output, result.output
    assert found(client, "Худайрамов") == [cases["khudayramov"]]
