"""Fixtures every integration module may use: a real local HTTP receiver and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

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
