"""The `vigil` command line against a real database file."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from events.clock import SystemClock
from events.engine import make_engine
from events.migrations import upgrade
from events.personal_data import create_master_key_file, new_master_key, parse_master_key
from service.cli import app
from service.keys import KeyService

from ..conftest import scratch_database

runner = CliRunner()


def test_keys_create_list_revoke(env, engine):
    created = runner.invoke(app, ["keys", "create", "--role", "editor", "--team", "lyon", "--name", "desk"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    who = KeyService(engine, SystemClock()).authenticate(key)
    assert who and who.role == "editor" and who.team == "lyon"
    listed = runner.invoke(app, ["keys", "list"]).output
    assert "desk" in listed and key not in listed
    assert runner.invoke(app, ["keys", "revoke", who.key_id]).exit_code == 0
    assert KeyService(engine, SystemClock()).authenticate(key) is None
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


# --- A command that cannot run says why in one line, exits 2, and creates nothing. ---

NEEDS_DATABASE = [["keys", "list"], ["keys", "create", "--role", "viewer", "--team", "t", "--name", "n"],
                  ["keys", "revoke", "some-id"], ["verify"], ["projections", "rebuild"], ["export", "--case", "c"]]


@pytest.fixture
def bare(tmp_path, monkeypatch):
    """An empty working directory and no VIGIL_ settings: what a fresh clone run from elsewhere sees."""
    for name in [n for n in os.environ if n.startswith("VIGIL_")]:
        monkeypatch.delenv(name)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def one_line_exit_2(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # not an error the runner caught
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.mark.parametrize("command", NEEDS_DATABASE, ids=lambda c: " ".join(c[:2]))
def test_no_database_is_one_line_and_creates_nothing(bare, command, monkeypatch):
    monkeypatch.setenv("VIGIL_MASTER_KEY", new_master_key())
    line = one_line_exit_2(runner.invoke(app, command), "sqlite:///./vigil.db", "`vigil db upgrade`",
                           "VIGIL_DATABASE_URL", str(bare / "vigil.db"))
    assert line.startswith("vigil: no database at")
    assert files_in(bare) == {}


@pytest.mark.parametrize("command", NEEDS_DATABASE, ids=lambda c: " ".join(c[:2]))
def test_a_database_without_the_schema_is_one_line_and_left_as_it_was(bare, command, monkeypatch):
    monkeypatch.setenv("VIGIL_MASTER_KEY", new_master_key())
    (bare / "vigil.db").touch()
    with closing(sqlite3.connect(bare / "other.db")) as conn:  # somebody else's SQLite database
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    before = files_in(bare)
    one_line_exit_2(runner.invoke(app, command), "sqlite:///./vigil.db", "has no Vigil schema", "`vigil db upgrade`")
    monkeypatch.setenv("VIGIL_DATABASE_URL", "sqlite:///other.db")
    one_line_exit_2(runner.invoke(app, command), "sqlite:///other.db", "has no Vigil schema", "`vigil db upgrade`")
    assert files_in(bare) == before


def test_a_database_behind_the_latest_migration_is_named_with_its_revision(bare, monkeypatch):
    engine = make_engine(f"sqlite:///{bare / 'old.db'}")
    upgrade(engine, "0005")
    engine.dispose()
    monkeypatch.setenv("VIGIL_DATABASE_URL", "sqlite:///old.db")
    one_line_exit_2(runner.invoke(app, ["keys", "list"]), "sqlite:///old.db", "schema revision 0005, not the latest",
                    "`vigil db upgrade`")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["keys", "list"]).exit_code == 0


def test_a_database_migrated_by_a_newer_vigil_is_named_as_such(bare, monkeypatch):
    engine = make_engine(f"sqlite:///{bare / 'new.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    monkeypatch.setenv("VIGIL_DATABASE_URL", "sqlite:///new.db")
    one_line_exit_2(runner.invoke(app, ["verify"]), "sqlite:///new.db", "schema revision 9999, which this version "
                    "of Vigil does not know", "upgrade Vigil")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", [["keys", "list"], ["verify"], ["db", "upgrade"]], ids=" ".join)
def test_an_unreachable_postgresql_is_one_line_with_the_password_masked(bare, command, monkeypatch):
    url = f"postgresql+psycopg://vigil:pw-s3cret@127.0.0.1:{free_port()}/vigil"
    monkeypatch.setenv("VIGIL_DATABASE_URL", url)
    result = runner.invoke(app, command)
    one_line_exit_2(result, "cannot connect to the database at postgresql+psycopg://vigil:***@127.0.0.1:",
                    "VIGIL_DATABASE_URL")
    assert "pw-s3cret" not in result.output
    assert files_in(bare) == {}


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_one_line_and_stays_empty(bare, pg, monkeypatch):
    with scratch_database(pg, template=None) as url:
        monkeypatch.setenv("VIGIL_DATABASE_URL", url)
        one_line_exit_2(runner.invoke(app, ["keys", "list"]), make_url(url).render_as_string(hide_password=True),
                        "has no Vigil schema", "`vigil db upgrade`")
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
        engine.dispose()


def test_a_password_in_the_query_string_is_masked_too(bare, monkeypatch):
    monkeypatch.setenv("VIGIL_DATABASE_URL",
                       f"postgresql+psycopg://127.0.0.1:{free_port()}/vigil?user=vigil&password=pw-s3cret")
    result = runner.invoke(app, ["keys", "list"])
    one_line_exit_2(result, "password=***")
    assert "pw-s3cret" not in result.output


def test_an_unparsable_url_is_one_line_without_echoing_it(bare, monkeypatch):
    monkeypatch.setenv("VIGIL_DATABASE_URL", "vigil:pw-s3cret@nowhere")
    result = runner.invoke(app, ["keys", "list"])
    one_line_exit_2(result, "VIGIL_DATABASE_URL is not a database URL")
    assert "pw-s3cret" not in result.output


def test_a_missing_master_key_is_one_line_naming_the_file(bare, sqlite_url, monkeypatch):
    monkeypatch.setenv("VIGIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY_FILE", str(bare / "absent.key"))
    one_line_exit_2(runner.invoke(app, ["export", "--case", "c"]), str(bare / "absent.key"), "VIGIL_MASTER_KEY,",
                    "VIGIL_MASTER_KEY_FILE", "`vigil demo` creates one")
    assert files_in(bare) == {}


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]], ids=lambda c: c[0])
def test_serve_and_worker_without_a_master_key_create_no_database(bare, command):
    one_line_exit_2(runner.invoke(app, command), str(bare / "vigil_master.key"), "VIGIL_MASTER_KEY_FILE")
    assert files_in(bare) == {}


def test_a_malformed_master_key_is_one_line_without_the_key(bare, sqlite_url, monkeypatch):
    monkeypatch.setenv("VIGIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", "c2hvcnQta2V5")  # base64, but 9 bytes
    result = runner.invoke(app, ["export", "--case", "c"])
    one_line_exit_2(result, "must decode to 32 bytes", "(VIGIL_MASTER_KEY)")
    assert "c2hvcnQta2V5" not in result.output


@pytest.fixture
def busy_port():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", [["serve"], ["demo"]], ids=lambda c: c[0])
def test_a_busy_port_is_one_line_and_creates_nothing(bare, busy_port, command):
    one_line_exit_2(runner.invoke(app, [*command, "--port", str(busy_port)]), f"127.0.0.1:{busy_port}", "--port")
    assert files_in(bare) == {}  # no master key, no database: above all, no demo admin key


def test_verbose_shows_the_traceback_and_then_the_line(bare):
    result = runner.invoke(app, ["--verbose", "keys", "list"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "DatabaseMissing" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("vigil: no database at sqlite:///./vigil.db")
    assert files_in(bare) == {}


def test_the_installed_command_prints_one_line_and_no_traceback(bare):
    """Through a real process, where an uncaught error would get typer's full traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    done = subprocess.run([sys.executable, "-c", "from service.cli import app; app()", "keys", "list"], cwd=bare,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"vigil: no database at sqlite:///./vigil.db (no file {bare / 'vigil.db'}): run `vigil db upgrade` to "
        "create it, or set VIGIL_DATABASE_URL to the database to use"]
    assert files_in(bare) == {}


# --- Files that hold or guard personal data are the owner's alone. ---

@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_its_wal_and_its_writer_lock_are_0600(bare, umask_022, monkeypatch):
    monkeypatch.setenv("VIGIL_MASTER_KEY", new_master_key())
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert mode(bare / "vigil.db") == 0o600
    assert runner.invoke(app, ["keys", "create", "--role", "viewer", "--team", "t", "--name", "n"]).exit_code == 0
    assert mode(bare / "vigil.db-writer.lock") == 0o600
    engine = make_engine("sqlite:///vigil.db")
    with engine.connect():
        assert {mode(bare / f"vigil.db{suffix}") for suffix in ("-wal", "-shm")} == {0o600}
    engine.dispose()


def test_an_existing_database_keeps_its_mode(bare, umask_022):
    (bare / "shared.db").touch(mode=0o640)
    engine = make_engine("sqlite:///shared.db")
    upgrade(engine)
    engine.dispose()
    assert mode(bare / "shared.db") == 0o640


def test_the_master_key_file_is_created_0600_and_never_overwritten(bare, umask_022):
    path = bare / "vigil_master.key"
    assert create_master_key_file(str(path)) is True
    assert mode(path) == 0o600
    key = path.read_text()
    assert len(parse_master_key(key)) == 32
    assert create_master_key_file(str(path)) is False
    assert path.read_text() == key


# --- vigil demo keeps one demo admin. ---

def test_demo_run_again_keeps_one_demo_admin(env, client, tmp_path, monkeypatch, umask_022):
    """Each run prints a new admin key and revokes the one the previous run printed. The database already holds
    a case, so the demo loads nothing (no seed documents needed); the master key file it creates is 0600."""
    client.post("/v1/cases", json={"person": {"name": "Demo Person"}, "country": "FR"}).raise_for_status()
    monkeypatch.delenv("VIGIL_MASTER_KEY")
    monkeypatch.setenv("VIGIL_MASTER_KEY_FILE", str(tmp_path / "demo.key"))
    printed = []
    for _ in range(2):
        result = runner.invoke(app, ["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
        assert "demo data: already loaded" in result.stdout
        printed.append(result.stdout.split("admin API key (shown once): ")[1].split()[0])
    assert mode(tmp_path / "demo.key") == 0o600
    demo_keys = [line for line in runner.invoke(app, ["keys", "list"]).stdout.splitlines()
                 if line.endswith("  demo admin")]
    assert len(demo_keys) == 2 and len([line for line in demo_keys if " active " in line]) == 1
    engine = make_engine(env)
    assert KeyService(engine, SystemClock()).authenticate(printed[0]) is None
    assert KeyService(engine, SystemClock()).authenticate(printed[1]).role == "admin"
    engine.dispose()


@pytest.mark.parametrize("smtp_host, warnings", [(None, 1), ("127.0.0.1", 0)])
def test_serve_warns_once_at_start_when_email_cannot_be_sent(env, monkeypatch, caplog, smtp_host, warnings):
    import uvicorn

    from service.cli import _serve
    from service.settings import load_settings

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # start-up only, no server
    _serve(load_settings(_env_file=None, smtp_host=smtp_host), "127.0.0.1", 0)
    said = [r for r in caplog.records if r.levelname == "WARNING" and "VIGIL_SMTP_HOST" in r.getMessage()]
    assert len(said) == warnings
