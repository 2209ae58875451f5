"""docker/compose.yaml, read as data (Docker cannot run here): migrations once first, a worker, no guessable secrets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"
VIGIL_SERVICES = ("migrate", "api", "worker")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_migrations_run_once_before_the_api_and_the_worker(services):
    assert services["migrate"]["command"] == ["vigil", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                                "migrate": {"condition": "service_completed_successfully"}}


def test_postgres_has_a_healthcheck(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_a_worker_delivers_and_the_api_leaves_delivery_to_it(services):
    assert services["worker"]["command"] == ["vigil", "worker"]
    assert services["api"]["command"][:2] == ["vigil", "serve"]
    assert services["api"]["environment"]["VIGIL_RUN_WORKER"] == "false"


def test_long_running_services_restart(services):
    for name in ("postgres", "api", "worker"):
        assert services[name]["restart"] == "unless-stopped", name


def test_every_vigil_service_runs_the_same_image_and_settings(services):
    images = {services[name]["image"] for name in VIGIL_SERVICES}
    assert len(images) == 1
    urls = {services[name]["environment"]["VIGIL_DATABASE_URL"] for name in VIGIL_SERVICES}
    assert len(urls) == 1


def required(value: str) -> bool:
    """A `${NAME:?message}` reference: compose refuses to start without it, so there is no default to guess."""
    return re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value) is not None


def test_secrets_come_from_the_environment_never_a_constant(services):
    api = services["api"]["environment"]
    assert required(api["VIGIL_BOOTSTRAP_ADMIN_KEY"])
    for name in VIGIL_SERVICES:
        assert required(services[name]["environment"]["VIGIL_MASTER_KEY"]), name
    assert required(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
    password = re.search(r"vigil:(.*)@postgres", api["VIGIL_DATABASE_URL"]).group(1)
    assert required(password)


def test_no_mail_sink_unless_asked_for(services):
    """Mailpit keeps every message and delivers none: it runs only under its own profile."""
    assert services["smtp"]["profiles"] == ["mail-sink"]
    assert services["api"]["environment"]["VIGIL_SMTP_HOST"] == "${VIGIL_SMTP_HOST:-}"
