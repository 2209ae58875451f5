"""The composition root: builds the engine, clock, cipher, store, services and worker once, and hands them on."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from sqlalchemy import Engine

from events.case_list import place_lapsed
from events.case_projections import CaseProjections
from events.clock import Clock, SystemClock
from events.database import database_reachable
from events.engine import make_engine
from events.data_keys import DataKeys
from events.keyring import Keyring
from events.personal_data import MasterKeyError, MasterKeyMissing, PersonalDataCipher, parse_master_key
from events.log_tree import LogTree
from events.name_index import NameIndex
from events.store import EventStore
from events.timing import Timing
from evidence.checkpoints import Checkpointer, LogKey, origin_from
from evidence.signing_job import LogSigning
from evidence.notes import NoteError
from evidence.witness_client import WitnessConfig, parse_witnesses
from evidence.witnessing import Witnessing
from notifications import ack_tokens
from notifications.channels.email import SmtpSettings
from notifications.checkpoint_fanout import CheckpointFanout
from notifications.outbox import Outbox
from notifications.reminders import ReminderPlanner, Ticker
from notifications.subscriptions import Subscriptions
from notifications.worker import DeliveryWorker

from . import metrics
from .access_log import AccessLog
from .ack_links import AckLinks
from .alerts import AlertService
from .auth_throttle import AuthThrottle
from .rate_limit import RateLimiter
from .bundles import DossierBundles
from .calendar_links import CalendarLinks
from .cases import CaseService
from .chat_actions import ChatActions
from .integrations.replays import SeenCallbacks
from .importer import ImportService
from .keys import KeyService
from .lockout_notices import LockoutNotices
from .live import LiveFeed
from .passkeys import PasskeyService
from .people import PeopleService
from .subscriptions import SubscriptionService
from .transparency_log import TransparencyLog
from .settings import Settings, keyring_path
from .web.sessions import SessionStore


@dataclass
class Container:
    settings: Settings
    engine: Engine
    clock: Clock
    store: EventStore
    cases: CaseService
    subscriptions: Subscriptions
    alerts: AlertService
    worker: DeliveryWorker
    smtp: SmtpSettings
    planner: ReminderPlanner
    ticker: Ticker
    access_log: AccessLog
    rate_limiter: RateLimiter
    sessions: SessionStore
    auth_throttle: AuthThrottle
    keys: KeyService
    subscription_service: SubscriptionService
    transparency: TransparencyLog
    log_signing: LogSigning
    bundles: DossierBundles
    people: PeopleService
    passkeys: PasskeyService
    calendar: CalendarLinks
    calendar_limiter: RateLimiter  # fetches per calendar token
    lockout_notices: LockoutNotices | None = None
    live: LiveFeed | None = None  # the live pages' change feed
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)
    chat_actions: ChatActions | None = None  # Slack and Telegram button clicks
    ack_links: AckLinks | None = None  # acknowledging from a message's link (built with everything else)
    imports: ImportService | None = None  # bulk import of history (service/importer.py)

    def database_reachable(self) -> bool:
        """For the readiness probe: can a connection run a statement now?"""
        return database_reachable(self.engine)

    def metrics_text(self) -> bytes:
        """The Prometheus exposition of every process's counters and the outbox's gauges."""
        return metrics.scrape(self.engine, self.clock.now)

    def close(self) -> None:
        for callback in self.on_shutdown:
            callback()
        self.worker.close()
        self.engine.dispose()


# A calendar app fetches a feed every hour or less often; more than this for one token is a leaked URL being scraped.
CALENDAR_FETCHES_PER_MINUTE = 6


def read_master_key(settings: Settings) -> bytes:
    """From VIGIL_MASTER_KEY, else from the master key file; never invented here (only `vigil demo` makes one)."""
    if settings.master_key:
        try:
            return parse_master_key(settings.master_key)
        except MasterKeyError as exc:
            raise MasterKeyError(f"{exc} (VIGIL_MASTER_KEY)") from None
    try:
        encoded = settings.master_key_file.read_text()
    except FileNotFoundError:
        raise MasterKeyMissing(str(settings.master_key_file.resolve())) from None
    except OSError as exc:
        raise MasterKeyError(f"cannot read the master key file {settings.master_key_file.resolve()}: "
                             f"{exc.strerror}") from None
    try:
        return parse_master_key(encoded)
    except MasterKeyError as exc:
        raise MasterKeyError(f"{exc} (read from {settings.master_key_file.resolve()})") from None


def quiet_secret_logging() -> None:
    """httpx logs each request's full URL at INFO; webhook URLs and bot tokens are secrets."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def smtp_settings(settings: Settings) -> SmtpSettings:
    return SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                        settings.smtp_password, settings.smtp_starttls)


def witnesses_from(settings: Settings) -> list[WitnessConfig]:
    try:
        return parse_witnesses(settings.witnesses or "")
    except NoteError as exc:
        raise NoteError(f"VIGIL_WITNESSES: {exc}") from None


def build_container(settings: Settings, clock: Clock | None = None, engine: Engine | None = None,
                    transport=None) -> Container:
    quiet_secret_logging()
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    master_key = read_master_key(settings)
    cipher = PersonalDataCipher(master_key)
    data_keys = DataKeys(Keyring(keyring_path(settings), master_key), cipher)
    timing = Timing.from_settings(settings)
    planner = ReminderPlanner(clock, timing)
    outbox = Outbox(clock, timing)
    live = LiveFeed(engine, clock)
    # In each append's transaction: the event and its leaf in the Merkle log, then the case projection, then
    # alerts, then reminders, then the live pages' notice.
    store = EventStore(engine, clock, projection=CaseProjections(timing=timing), reactions=[outbox, planner, live],
                       log=LogTree())
    cases = CaseService(store, cipher, data_keys, clock, settings, names=NameIndex(cipher.derive_key("name-index")))
    subs = Subscriptions(engine, cipher, clock)
    smtp = smtp_settings(settings)

    ack_key = cipher.derive_key(ack_tokens.KEY_PURPOSE)  # signs acknowledge links; opens nothing else
    worker = DeliveryWorker(engine, clock, subs, settings.public_url, smtp, cases.person_name, case_zones=cases.zones,
                            lease=timedelta(seconds=settings.delivery_lease_seconds),
                            poll_seconds=settings.worker_poll_seconds, transport=transport,
                            allow_private_networks=settings.webhook_allow_private_networks,
                            on_recorded=metrics.count_recorded,
                            ack_key=ack_key)
    # After a commit the worker either takes the deliveries it was handed or is woken to claim them; an append
    # that raised nothing wakes nobody.
    outbox.handoff, outbox.wake = worker.handoff, worker.wake
    def woken_by_ticker() -> None:  # reminders fired or escalations queued: the worker sends, open pages update
        worker.wake()
        live.changed()

    ticker = Ticker(engine, clock, settings.scheduler_tick_seconds, worker.escalate_due, woken_by_ticker,
                    place_cases=lambda now: place_lapsed(engine, now, timing),
                    on_reminders=metrics.count_reminders, contact_overdue_after=settings.contact_overdue_after,
                    contact_repeat_for=settings.contact_overdue_repeat_for)
    alerts = AlertService(engine, clock, on_change=live.changed)
    origin = settings.log_origin or origin_from(settings.public_url)
    log_key = LogKey(engine, cipher, clock, origin)
    checkpointer = Checkpointer(engine, clock, store.log, log_key, origin,
                                timedelta(seconds=settings.checkpoint_seconds))
    log_signing = LogSigning(log_key, checkpointer, Witnessing(engine, store.log, witnesses_from(settings), clock))
    # Each checkpoint, once signed and offered to the witnesses, to every subscription that opted in (log.checkpoint).
    worker.checkpoint_copy = checkpointer.published
    log_signing.on_signed.append(CheckpointFanout(engine, clock, worker.wake).queue)
    access_log = AccessLog(engine, clock)
    # A person locked out by failed sign-ins: an entry in the access log, which their admin reads; the scheduler
    # emails the admins (lockout_notices) and the settings page shows it until an admin unlocks.
    people = PeopleService(engine, clock, settings.public_url, cipher,
                           on_lockout=lambda who, client: access_log.record(who, "lockout", None, "/signin", client),
                           lock_after=settings.signin_lock_after)
    keys = KeyService(engine, clock)
    calendar = CalendarLinks(engine, clock, settings.public_url, keys, people, cases)
    return Container(settings, engine, clock, store, cases, subs, alerts, worker, smtp,
                     planner, ticker, access_log, RateLimiter(settings.rate_limit_per_minute),
                     SessionStore(engine, clock, cipher.derive_key("session-cookie")),
                     AuthThrottle(engine, clock, settings.auth_failures_per_minute), keys,
                     SubscriptionService(subs, planner, engine, worker, alerts, clock, settings),
                     transparency=TransparencyLog(engine, store.log), log_signing=log_signing,
                     bundles=DossierBundles(cases, alerts, store, log_signing, clock), people=people,
                     passkeys=PasskeyService(engine, clock, settings.public_url), calendar=calendar,
                     calendar_limiter=RateLimiter(CALENDAR_FETCHES_PER_MINUTE),
                     chat_actions=ChatActions(subs, alerts, SeenCallbacks(engine), worker, clock, settings.public_url,
                                              settings.slack_response_base),
                     ack_links=AckLinks(engine, clock, ack_key, access_log, on_change=alerts.on_change),
                     lockout_notices=LockoutNotices(people.repository, smtp, clock, settings.public_url), live=live,
                     imports=ImportService(cases))
