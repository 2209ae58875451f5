"""Prometheus metrics: their definitions, the hooks that move them, and the scrape (one process or many).

Labels hold only bounded, impersonal values: route templates, methods, status codes, event types, channel kinds
and outcomes; never a case id, a name or a team. Which directory several processes share is decided before this
module is imported (service.metrics_setup)."""
from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Callable, Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from events.catalogue import EVENT_TYPES
from notifications.channels.base import Delivered
from notifications.delivery_store import Attempt
from notifications.tables import deliveries

from . import metrics_setup

log = logging.getLogger("vigil.metrics")

APPENDS = Counter("vigil_appends", "Events submitted to the case service, by event type and outcome.",
                  ["event_type", "outcome"])
HTTP_REQUESTS = Counter("vigil_http_requests", "HTTP requests by method, route template and status.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("vigil_http_request_duration_seconds", "Time to answer an HTTP request.",
                         ["method", "route"])
DELIVERIES = Counter("vigil_deliveries", "Delivery attempts recorded, by channel kind and the state they left "
                     "(delivered; failed: to be retried; dead).", ["channel", "outcome"])
DELIVERY_LATENCY = Histogram("vigil_delivery_latency_seconds", "From an alert raised to its delivery through a "
                             "subscription's channel.", ["channel"],
                             buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600))
REMINDERS = Counter("vigil_reminders", "Reminders handled by the scheduler tick: fired on time, fired late, "
                    "or skipped.", ["outcome"])
TICK_SECONDS = Histogram("vigil_scheduler_tick_duration_seconds", "Time one scheduler tick took.",
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


# ---- hooks ----
def count_append(event_type: str, outcome: str) -> None:
    # A rejected type is whatever the client sent: only catalogue names become label values.
    APPENDS.labels(event_type if event_type in EVENT_TYPES else "unknown", outcome).inc()


# The labelled children of the request metrics, kept per (method, route template, status): `labels()` takes a lock
# and builds its key on every request. Bounded as the labels are (the caller passes known methods and templates).
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Callable[[], None], Callable[[float], None]]] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = _REQUEST_CHILDREN.setdefault(key, (HTTP_REQUESTS.labels(method, route, str(status)).inc,
                                                      HTTP_SECONDS.labels(method, route).observe))
    count, observe = children
    count()
    observe(seconds)


def count_recorded(attempts: Sequence[Attempt], states: Sequence[str]) -> None:
    """The delivery worker's hook: each recorded attempt, and how long a first delivery took after its alert. Counts
    are added once per (channel kind, state) of the batch: a labels() look-up per attempt cost more than the rest."""
    counts: dict[tuple[str, str], int] = {}
    latencies: dict[str, list[float]] = {}
    for attempt, state in zip(attempts, states):
        key = (attempt.channel_kind, state)
        counts[key] = counts.get(key, 0) + 1
        raised_at = (attempt.claimed.alert or {}).get("raised_at")
        if isinstance(attempt.outcome, Delivered) and attempt.claimed.kind == "raised" and raised_at is not None:
            done = attempt.attempted_at.timestamp() + attempt.duration_ms / 1000
            latencies.setdefault(attempt.channel_kind, []).append(max(0.0, done - raised_at.timestamp()))
    for (kind, state), count in counts.items():
        DELIVERIES.labels(kind, state).inc(count)
    for kind, seconds in latencies.items():
        observe = DELIVERY_LATENCY.labels(kind).observe
        for value in seconds:
            observe(value)


def count_reminders(outcomes: dict[str, int]) -> None:
    """The scheduler tick's hook, once its transaction has committed."""
    for outcome, count in outcomes.items():
        if count:
            REMINDERS.labels(outcome).inc(count)


def timed_tick(tick: Callable[[], object]) -> Callable[[], None]:
    def timed() -> None:
        with TICK_SECONDS.time():
            tick()
    return timed


def process_exit() -> None:
    """Bookkeeping for a process leaving a shared directory (only live gauges care; harmless otherwise)."""
    path = metrics_setup.directory()
    if path is not None:
        mark_process_dead(os.getpid(), str(path))


# ---- the scrape ----
class OutboxCollector:
    """Outbox gauges read from the database at scrape time, so they are right whichever process answers."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]):
        self.engine, self.now = engine, now

    def collect(self) -> Iterable[GaugeMetricFamily]:
        waiting = deliveries.c.state.in_(("pending", "failed"))
        try:
            with self.engine.connect() as conn:
                oldest, pending = conn.execute(select(func.min(deliveries.c.created_at), func.count())
                                               .where(waiting)).one()
                dead = conn.execute(select(func.count()).where(deliveries.c.state == "dead")).scalar_one()
        except SQLAlchemyError:  # the scrape still answers; the gauges are missing, which alerting can see
            log.warning("could not read the outbox for /metrics", exc_info=True)
            return
        age = max(0.0, (self.now() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily("vigil_outbox_oldest_pending_age_seconds",
                                "Age of the oldest delivery not yet delivered nor dead (0 when there is none).",
                                value=age)
        yield GaugeMetricFamily("vigil_outbox_pending_deliveries", "Deliveries not yet delivered nor dead.",
                                value=pending)
        yield GaugeMetricFamily("vigil_outbox_dead_deliveries", "Dead deliveries waiting for a person to retry them.",
                                value=dead)


class _Together:
    def __init__(self, *sources):
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def scrape(engine: Engine, now: Callable[[], datetime]) -> bytes:
    """The exposition text: every process's counters when several share a directory, this one's otherwise."""
    path = metrics_setup.directory()
    if path is not None:
        counters = CollectorRegistry()
        MultiProcessCollector(counters, str(path))
    else:
        counters = REGISTRY
    return generate_latest(_Together(counters, OutboxCollector(engine, now)))
