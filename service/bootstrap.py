"""The one bootstrap every entry point starts from: the ASGI app, each CLI command and the `vigil worker` process.

It reads the settings, sets up logging, opens (or creates and migrates) the database and builds the parts: the
whole container (service/container.py) for what serves, delivers or reads personal data, or the few parts that
need no master key (keys, the log's verification). The container and the app are imported only when asked for:
prometheus_client must not be imported before `metrics_setup.configure` has chosen its mode.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from events.clock import Clock, SystemClock
from events.database import migrate, open_existing
from events.store import EventStore

from .access_log import AccessLog
from .keys import KeyService
from .people import PeopleService
from .settings import Settings, load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .container import Container


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(process)d] %(name)s %(message)s")
    # APScheduler logs every tick (every 15 s) at INFO: only its warnings and errors are news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def open_database(settings: Settings, create: bool = False) -> Engine:
    """The database at the latest schema: created and migrated when `create`, else it must exist at head."""
    return migrate(settings.database_url) if create else open_existing(settings.database_url)


@dataclass
class Tools:
    """What a command that needs no master key works with: the database, the clock, keys and the event log."""
    settings: Settings
    engine: Engine
    clock: Clock
    keys: KeyService
    store: EventStore  # reading and verifying the log only: no projection, no reactions
    access_log: AccessLog
    people: PeopleService  # invitations, listing and disabling only: enrolling needs the master key

    def close(self) -> None:
        self.engine.dispose()


def tools(settings: Settings | None = None, *, create: bool = False, clock: Clock | None = None) -> Tools:
    settings = settings or load_settings()
    engine, clock = open_database(settings, create), clock or SystemClock()
    return Tools(settings, engine, clock, KeyService(engine, clock), EventStore(engine, clock),
                 AccessLog(engine, clock), PeopleService(engine, clock, settings.public_url))


def container(settings: Settings | None = None, *, create: bool = False, engine: Engine | None = None,
              clock: Clock | None = None, transport=None) -> Container:
    """Everything: the master key is read before the database is touched, so a missing key creates nothing."""
    from .container import build_container, read_master_key

    settings = settings or load_settings()
    read_master_key(settings)
    if settings.locales_dir:
        from events.i18n import add_catalogues
        add_catalogues(settings.locales_dir)
    return build_container(settings, clock=clock, engine=engine or open_database(settings, create),
                           transport=transport)


def app_from_environment() -> FastAPI:
    """The app built from the environment's settings: what each process of `vigil serve --workers N` runs."""
    from .app import create_app
    from .malloc_arenas import limit_arenas

    limit_arenas()  # a spawned process: the parent's setting does not carry over
    configure_logging()
    return create_app(container())
