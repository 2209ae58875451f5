"""How routes, pages and the CLI reach the key and subscription services: built from the container's parts.

Building one costs no I/O, so each call makes its own; once the composition root holds these services, each
function here becomes an attribute read and nothing else changes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .keys import KeyService
from .subscriptions import SubscriptionService

if TYPE_CHECKING:
    from .container import Container


def keys(box: Container) -> KeyService:
    return KeyService(box.engine, box.clock)


def subscriptions(box: Container) -> SubscriptionService:
    return SubscriptionService(box.subscriptions, box.planner, box.engine, box.worker, box.alerts, box.clock,
                               box.smtp.host, box.settings.webhook_allow_private_networks)
