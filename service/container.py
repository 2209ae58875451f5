"""The composition root: builds the engine, clock, cipher, store and case service once, and hands them on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Engine

from events.case_projections import CaseProjections
from events.clock import Clock, SystemClock
from events.engine import make_engine
from events.personal_data import MasterKeyError, PersonalDataCipher, parse_master_key
from events.store import EventStore

from .cases import CaseService
from .settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: Engine
    clock: Clock
    store: EventStore
    cases: CaseService
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for callback in self.on_shutdown:
            callback()
        self.engine.dispose()


def read_master_key(settings: Settings) -> bytes:
    """From VIGIL_MASTER_KEY, else from the master key file; never invented here (only `vigil demo` makes one)."""
    if settings.master_key:
        return parse_master_key(settings.master_key)
    if settings.master_key_file.exists():
        return parse_master_key(settings.master_key_file.read_text())
    raise MasterKeyError(
        f"no master key: set VIGIL_MASTER_KEY or create {settings.master_key_file} (vigil demo makes one)")


def build_container(settings: Settings, clock: Clock | None = None, engine: Engine | None = None) -> Container:
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    cipher = PersonalDataCipher(read_master_key(settings))
    store = EventStore(engine, clock, hooks=[CaseProjections()])
    cases = CaseService(store, cipher, clock, settings)
    return Container(settings, engine, clock, store, cases)
