"""Personal data is encrypted per case: the database holds no name in plain text."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from events.tables import case_projections, events

NAME = "Zarina Testperson-Unique"


def test_name_is_in_no_byte_of_the_sqlite_files(sqlite_url, clock, tmp_path):
    from fastapi.testclient import TestClient

    from events.personal_data import new_master_key
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=sqlite_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False)
    box = build_container(settings, clock=clock)
    with TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        case_id = client.post("/v1/cases", json={"person": {"name": NAME, "aliases": ["Z. T."]},
                                                 "country": "TR"}).json()["id"]
        client.post(f"/v1/cases/{case_id}/events", json={
            "type": "PersonDetailsUpdated", "occurred_at": "2024-01-01T00:00:00Z",
            "data": {"person": {"aliases": ["Zarina T. Unique"]}}})
        assert client.get(f"/v1/cases/{case_id}").json()["person"]["aliases"] == ["Zarina T. Unique"]
    box.close()
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    for path in db_file.parent.glob(db_file.name + "*"):
        raw = path.read_bytes()
        assert NAME.encode() not in raw and b"Zarina" not in raw, path


def test_name_is_not_stored_in_postgres(postgres_url, clock, client_factory=None):
    from fastapi.testclient import TestClient

    from events.personal_data import new_master_key
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=postgres_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False)
    box = build_container(settings, clock=clock)
    with TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        client.post("/v1/cases", json={"person": {"name": NAME}, "country": "TR"})
    with box.engine.connect() as conn:
        stored = [r for r in conn.execute(select(events.c.data))] + [r for r in conn.execute(
            select(case_projections.c.state))]
        assert stored and not any("Zarina" in row[0] for row in stored)
        assert conn.execute(text("SELECT count(*) FROM events WHERE data LIKE '%Zarina%'")).scalar() == 0
    box.close()


def test_logs_of_a_full_scenario_hold_no_name(client, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    case_id = client.post("/v1/cases", json={"person": {"name": NAME}, "country": "TR"}).json()["id"]
    client.get("/v1/cases", params={"q": "Zarina"})
    client.get(f"/v1/cases/{case_id}")
    client.get(f"/v1/cases/{case_id}/export", params={"format": "html"})
    client.post("/v1/cases", json={"person": {"name": NAME, "birth_year": "Zarina"}, "country": "TR"})
    client.post(f"/v1/cases/{case_id}/events", json={"type": "PersonDetailsUpdated", "occurred_at": "2024-01-01",
                                                     "data": {"person": {"name": NAME, "extra": NAME}}})
    from ..receiver import Receiver

    with Receiver() as receiver:  # a webhook whose URL path is itself a secret, as Slack's and Discord's are
        sub = client.post("/v1/subscriptions", json={"name": "s", "channel": {
            "kind": "webhook", "url": receiver.url("/hooks/Zarina-secret-path")}}).json()
        assert client.post(f"/v1/subscriptions/{sub['id']}/test").json()["state"] == "delivered"
    assert any(r.name == "vigil.requests" for r in caplog.records)
    # The test client itself logs its requests (to http://testserver); everything else is Vigil's side.
    server_side = [r for r in caplog.records if "http://testserver" not in r.getMessage()]
    assert server_side and not any("Zarina" in r.getMessage() for r in server_side)
