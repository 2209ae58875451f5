"""Fixtures every integration module may use: a real local HTTP receiver, a real SMTP server (aiosmtpd), and the
dashboard's two clients (an API client holding the admin key, a browser-like one with no credentials)."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from ..conftest import ADMIN_KEY
from ..receiver import Receiver
from .helpers.smtp import Inbox


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def smtp_inbox():
    with socket.socket() as probe:  # the controller checks itself on start, so it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def api(box):
    """A client holding the admin key in a header (for setting things up through the API)."""
    from service.app import create_app

    with TestClient(create_app(box), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


@pytest.fixture
def browser(box):
    """A client with no credentials of its own, like a browser: it signs in and keeps the cookie."""
    from service.app import create_app

    with TestClient(create_app(box), follow_redirects=False) as client:
        yield client


@pytest.fixture
def env(db_url, tmp_path, monkeypatch, settings):
    """For CLI commands run in-process: the test database and master key in the environment, a scratch cwd."""
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_MASTER_KEY", settings.master_key)
    monkeypatch.chdir(tmp_path)
    return db_url
