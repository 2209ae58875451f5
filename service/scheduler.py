"""APScheduler runs one interval job, the tick; the database decides what is due (no in-memory jobs)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.schedulers.background import BackgroundScheduler

from .container import Container
from .metrics import timed_tick

log = logging.getLogger("vigil.scheduler")


def start_scheduler(box: Container) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.add_job(timed_tick(box.ticker.tick), "interval", seconds=box.settings.scheduler_tick_seconds, id="tick",
                      max_instances=1, coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.now(timezone.utc))  # catch up at once after downtime
    scheduler.add_job(box.log_signing.run, "interval", seconds=box.settings.checkpoint_seconds, id="checkpoint",
                      max_instances=1, coalesce=True, misfire_grace_time=None)
    if box.lockout_notices is not None:
        scheduler.add_job(box.lockout_notices.run, "interval", seconds=box.settings.scheduler_tick_seconds,
                          id="lockout-notices", max_instances=1, coalesce=True, misfire_grace_time=None)
    scheduler.add_listener(lambda e: log.error("scheduler job %s failed: %r", e.job_id, e.exception), EVENT_JOB_ERROR)
    scheduler.start()
    return scheduler
