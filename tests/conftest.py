"""Shared fixtures: a fresh SQLite file or PostgreSQL database per test, a manual clock, the app and a client."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from events.clock import ManualClock
from events.engine import make_engine
from events.migrations import upgrade
from events.personal_data import new_master_key
from service.settings import Settings

from .pg_server import start_postgres

ADMIN_KEY = "test-admin-key"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def own_keyring(tmp_path, monkeypatch):
    """Each test (and every process it starts) keeps its key-encryption keys in its own folder, never in the
    working directory, where another test's master key would have made them first."""
    monkeypatch.setenv("VIGIL_KEYRING_FILE", str(tmp_path / "keyring" / "vigil_keyring"))


@pytest.fixture(scope="session")
def pg():
    """The throwaway PostgreSQL server, with a migrated template database."""
    try:
        server = start_postgres()
    except Exception as exc:  # noqa: BLE001 - reported below, never hidden in CI
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unavailable here: {exc}")
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE vigil_template"))
    template = make_engine(server.url("vigil_template"))
    upgrade(template)
    template.dispose()
    server.admin = admin
    yield server
    admin.dispose()
    server.stop()


@contextmanager
def scratch_database(pg, template: str | None = "vigil_template") -> Iterator[str]:
    """A fresh database on the test server (a copy of the migrated template, or empty), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg.admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield pg.url(name)
    finally:
        with pg.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def postgres_url(pg):
    with scratch_database(pg) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "vigil.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    path = tmp_path / "vigil.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock():
    return ManualClock(START, tick=timedelta(milliseconds=1))


@pytest.fixture
def settings(db_url, tmp_path):
    return Settings(_env_file=None, database_url=db_url, master_key=new_master_key(),
                    bootstrap_admin_key=ADMIN_KEY, master_key_file=tmp_path / "no.key", run_worker=False,
                    webhook_allow_private_networks=True)  # tests deliver to receivers on 127.0.0.1


@pytest.fixture
def box(settings, clock, engine):
    from service.container import build_container

    container = build_container(settings, clock=clock, engine=engine)
    yield container


@pytest.fixture
def client(box):
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(box), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as test_client:
        yield test_client
