"""The `vigil` command line against a real database file."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from service.cli import app
from service.keys import authenticate

runner = CliRunner()


@pytest.fixture
def env(db_url, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    return db_url


def test_keys_create_list_revoke(env, engine):
    created = runner.invoke(app, ["keys", "create", "--role", "editor", "--team", "lyon", "--name", "desk"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    who = authenticate(engine, key)
    assert who and who.role == "editor" and who.team == "lyon"
    listed = runner.invoke(app, ["keys", "list"]).output
    assert "desk" in listed and key not in listed
    assert runner.invoke(app, ["keys", "revoke", who.key_id]).exit_code == 0
    assert authenticate(engine, key) is None
    bad = runner.invoke(app, ["keys", "create", "--role", "owner", "--team", "x", "--name", "y"])
    assert bad.exit_code != 0


def test_verify_export_and_rebuild(env, client, engine):
    case_id = client.post("/v1/cases", json={"person": {"name": "Cli Person"}, "country": "FR"}).json()["id"]
    client.post(f"/v1/cases/{case_id}/events", json={"type": "Detained", "occurred_at": "2023-01-01T00:00:00Z",
                                                     "data": {"place": "Lyon"}})
    ok = runner.invoke(app, ["verify", "--case", case_id])
    assert ok.exit_code == 0 and "ok, 2 events" in ok.output
    verified = runner.invoke(app, ["verify"]).output
    assert "1 of 1 cases verified" in verified and "access log: ok" in verified
    exported = json.loads(runner.invoke(app, ["export", "--case", case_id, "--format", "json"]).output)
    assert exported["case"]["detained"] is True and exported["case"]["person"]["name"] == "Cli Person"
    assert runner.invoke(app, ["export", "--case", case_id, "--format", "csv"]).output.startswith("position,")

    with engine.connect() as conn:
        inline = conn.execute(text("SELECT case_id, version, status, state FROM case_projections")).all()
    rebuilt = runner.invoke(app, ["projections", "rebuild"])
    assert rebuilt.exit_code == 0 and "from 2 events" in rebuilt.output and "placed 1 cases" in rebuilt.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT case_id, version, status, state FROM case_projections")).all() == inline
        assert conn.execute(text("SELECT list_valid_until FROM case_projections")).scalar() == "9999"  # placed

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("UPDATE events SET actor = 'forger' WHERE version = 2"))
    broken = runner.invoke(app, ["verify"])
    assert broken.exit_code == 1 and "BROKEN at version 2" in broken.output


@pytest.mark.parametrize("smtp_host, warnings", [(None, 1), ("127.0.0.1", 0)])
def test_serve_warns_once_at_start_when_email_cannot_be_sent(env, monkeypatch, caplog, smtp_host, warnings):
    import uvicorn

    from service.cli import _serve
    from service.settings import load_settings

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # start-up only, no server
    _serve(load_settings(_env_file=None, smtp_host=smtp_host), "127.0.0.1", 0)
    said = [r for r in caplog.records if r.levelname == "WARNING" and "VIGIL_SMTP_HOST" in r.getMessage()]
    assert len(said) == warnings
