"""Erasure by crypto-shredding: the person's data becomes unreadable everywhere, the history stays verifiable."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from events.tables import case_keys
from service.keys import KeyService

NAME = "Erasable Testperson"


def test_erase_shreds_the_person_and_keeps_history_verifiable(client, box, engine):
    case_id = client.post("/v1/cases", json={"person": {"name": NAME, "aliases": ["E. T."]},
                                             "country": "FR"}).json()["id"]
    client.post(f"/v1/cases/{case_id}/events", json={"type": "Detained", "occurred_at": "2026-01-01T00:00:00Z",
                                                     "data": {"place": "Lyon"}})
    with engine.connect() as conn:
        wrapped = conn.execute(select(case_keys.c.wrapped_key).where(case_keys.c.case_id == case_id)).scalar_one()
    editor = KeyService(box.engine, box.clock).create("editor", "lyon", "editor")
    assert client.post(f"/v1/cases/{case_id}/erase", headers={"Authorization": f"Bearer {editor}"}).status_code == 403

    erased = client.post(f"/v1/cases/{case_id}/erase", json={"reason": "the family asked"})
    assert erased.status_code == 200 and erased.json()["version"] == 3
    assert client.post(f"/v1/cases/{case_id}/erase").status_code == 409

    view = client.get(f"/v1/cases/{case_id}").json()
    assert view["person"] is None and view["personal_data_erased"] is True and view["detained"] is True
    events = client.get(f"/v1/cases/{case_id}/events").json()["items"]
    assert events[0]["data"]["person"] == {"erased": True}
    assert events[-1]["type"] == "PersonalDataErased" and events[-1]["data"]["reason"] == "the family asked"
    assert events[-1]["data"]["erased_by"].startswith("key:")
    assert client.get(f"/v1/cases/{case_id}/verify").json()["ok"] is True
    for fmt in ("json", "csv", "html"):
        assert NAME not in client.get(f"/v1/cases/{case_id}/export", params={"format": fmt}).text
    update = client.post(f"/v1/cases/{case_id}/events", json={
        "type": "PersonDetailsUpdated", "occurred_at": "2026-02-01T00:00:00Z", "data": {"person": {"name": "New"}}})
    assert update.status_code == 422

    with engine.connect() as conn:
        assert conn.execute(select(case_keys).where(case_keys.c.case_id == case_id)).first() is None
    if engine.dialect.name == "sqlite":  # the destroyed key is in no byte of the database files
        db_file = Path(engine.url.database)
        for path in db_file.parent.glob(db_file.name + "*"):
            assert wrapped not in path.read_bytes(), path


def test_postgres_dump_holds_neither_name_nor_destroyed_key(postgres_url, pg, clock):
    import subprocess

    from fastapi.testclient import TestClient

    from events.personal_data import new_master_key
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=postgres_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False)
    box = build_container(settings, clock=clock)
    with TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        case_id = client.post("/v1/cases", json={"person": {"name": NAME}, "country": "FR"}).json()["id"]
        with box.engine.connect() as conn:
            wrapped = conn.execute(select(case_keys.c.wrapped_key).where(case_keys.c.case_id == case_id)).scalar_one()
        assert client.post(f"/v1/cases/{case_id}/erase").status_code == 200
    box.close()
    dump = subprocess.run([f"{pg.bin_dir}/pg_dump", "--data-only", "-h", "127.0.0.1", "-p", str(pg.port),
                           "-U", "postgres", postgres_url.rsplit("/", 1)[1]], capture_output=True, check=True).stdout
    assert b"Testperson" not in dump and wrapped.hex().encode() not in dump and len(dump) > 1000


def _openable_copies(places: list[Path], data_keys, case_id: str) -> int:
    """How many wrapped keys in these PostgreSQL files (the database's heap, the WAL) still open for this case with
    what Vigil keeps: today's keyring generations and the master key."""
    from events.personal_data import UndecryptableError

    pattern = re.compile(rb"\x01\x00\x00\x00[\x01-\xff]")  # a wrapped key's header: generations 1 to 255
    found = 0
    for path in (p for place in places for p in place.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        for match in pattern.finditer(raw):
            candidate = raw[match.start():match.start() + 65]
            try:
                data_keys.unwrap(case_id, candidate)
                found += 1
            except (UndecryptableError, ValueError):
                pass
    return found


def test_after_erasure_nothing_in_postgres_files_or_wal_opens_the_erased_key(postgres_url, pg, clock, tmp_path):
    """Attack-run finding 2: the wrapped key stays in PostgreSQL's WAL after erasure; what Vigil still keeps must
    not open it. Another case is erased first, so the target's key exists in the WAL under two generations."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from events.personal_data import new_master_key
    from service.app import create_app
    from service.container import build_container
    from service.settings import Settings

    settings = Settings(_env_file=None, database_url=postgres_url, master_key=new_master_key(),
                        bootstrap_admin_key="k", run_worker=False, keyring_file=tmp_path / "kr" / "vigil_keyring")
    box = build_container(settings, clock=clock)
    checkpoint = box.engine.execution_options(isolation_level="AUTOCOMMIT")
    with box.engine.connect() as conn:
        oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar_one()
    places = [Path(pg.datadir) / "pg_wal", Path(pg.datadir) / "base" / str(oid)]
    with TestClient(create_app(box), headers={"Authorization": "Bearer k"}) as client:
        ids = [client.post("/v1/cases", json={"person": {"name": f"{NAME} {i}"}, "country": "FR"}).json()["id"]
               for i in range(3)]
        first, target, kept = ids
        with checkpoint.connect() as conn:
            conn.execute(text("CHECKPOINT"))
        assert _openable_copies(places, box.cases.data_keys, target) >= 1  # the scan finds live keys
        assert client.post(f"/v1/cases/{first}/erase").status_code == 200
        assert client.post(f"/v1/cases/{target}/erase").status_code == 200
        with checkpoint.connect() as conn:
            conn.execute(text("CHECKPOINT"))
        assert box.cases.data_keys.keyring.generations() == {3}  # generations 1 and 2 are destroyed
        assert _openable_copies(places, box.cases.data_keys, target) == 0
        assert _openable_copies(places, box.cases.data_keys, first) == 0
        assert _openable_copies(places, box.cases.data_keys, kept) >= 1
        assert client.get(f"/v1/cases/{kept}").json()["person"]["name"] == f"{NAME} 2"
        assert client.get(f"/v1/cases/{target}").json()["person"] is None
    box.close()


def test_a_retired_generation_is_forgotten_at_once_by_the_process_that_retired_it(tmp_path):
    """Keys are cached for reads (a page unwraps one per case), but never past their retirement in this process."""
    from events.keyring import Keyring
    from events.personal_data import UndecryptableError, new_master_key, parse_master_key

    keyring = Keyring(tmp_path / "vigil_keyring", parse_master_key(new_master_key()))
    first, _ = keyring.current()
    keyring.get(first)  # cached
    second = keyring.add_generation()
    assert keyring.retire(set()) == {first}
    with pytest.raises(UndecryptableError):
        keyring.get(first)
    assert keyring.get(second) is not None
