"""Typed settings from the environment (`VIGIL_` prefix) or a `.env` file, built by a function and passed in."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./vigil.db"
    bootstrap_admin_key: str | None = Field(default=None, repr=False)
    master_key: str | None = Field(default=None, repr=False)
    master_key_file: Path = Path("./vigil_master.key")
    # The key-encryption keys of the cases' data keys; by default beside the master key file (see keyring_path).
    keyring_file: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    # More dashboard languages: <dir>/<lang>/LC_MESSAGES/vigil.po catalogues beside Vigil's own en, ru, fr, tr.
    locales_dir: Path | None = None
    smtp_host: str | None = None  # unset: email subscriptions are refused (422), never silently undeliverable
    smtp_port: int = 25
    smtp_from: str = "vigil@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = False
    webhook_allow_private_networks: bool = False
    # Where a Slack button click's response_url must point (Slack's own host; a local receiver in tests).
    slack_response_base: str = "https://hooks.slack.com/"
    scheduler_tick_seconds: float = 15
    contact_overdue_after: timedelta = Field(default=timedelta(days=2), gt=timedelta(0), le=timedelta(days=30))
    # A removal date passed with no outcome recorded: outcome.overdue after this grace, then daily.
    outcome_overdue_after: timedelta = Field(default=timedelta(hours=2), ge=timedelta(0), le=timedelta(days=7))
    # A passed hearing or deadline with no outcome recorded stays high this long.
    outcome_watch: timedelta = Field(default=timedelta(days=14), gt=timedelta(0), le=timedelta(days=365))
    # contact.overdue repeats daily for this long after its first alert, then stops (the case stays critical).
    contact_overdue_repeat_for: timedelta = Field(default=timedelta(days=30), ge=timedelta(0), le=timedelta(days=366))
    # Events that happened longer ago than this are history: no page of their own (notifications/outbox.py), and
    # crises older than this rank below current ones of their level (events/risk.py).
    history_horizon: timedelta = Field(default=timedelta(days=7), gt=timedelta(0), le=timedelta(days=366))
    run_worker: bool = True
    max_body_bytes: int = 1_048_576
    max_import_bytes: int = 64 * 1_048_576  # POST /v1/import's body (larger files: `vigil import` on the host)
    rate_limit_per_minute: int = 1200  # per API key; 0 turns the limit off
    # Signing in to the dashboard with an API key (a cookie session or a bearer key on its pages); when false, only
    # people sign in there, and API keys serve the API alone (integrations).
    dashboard_key_signin: bool = True
    # Failed sign-ins (password or code) that lock a person's account for 15 minutes or until an admin unlocks it;
    # at least 3, the failures that never wait (service/signin_throttle.py).
    signin_lock_after: int = Field(default=10, ge=3, le=100)
    auth_failures_per_minute: int = 20  # wrong keys per client address and minute before 429; 0 turns it off
    delivery_lease_seconds: float = 60  # an in-flight delivery is retried this long after its worker vanished
    worker_poll_seconds: float = 1.0  # fallback poll; appends wake the worker at once
    metrics_token: str | None = Field(default=None, repr=False)  # a bearer token for GET /metrics only
    metrics_dir: Path | None = None  # shared by the processes of one host (service/metrics_setup.py)
    # The transparency log (evidence/): the checkpoint's origin line (default: the public URL's host and path, then
    # /log), how often at most a grown log is signed, and the witnesses it is offered to (URL=VERIFIERKEY, ...).
    log_origin: str | None = Field(default=None, pattern=r"^[^\s+]+$")
    checkpoint_seconds: float = Field(default=60, gt=0)
    witnesses: str | None = None


def keyring_path(settings: Settings) -> Path:
    return settings.keyring_file or settings.master_key_file.parent / "vigil_keyring"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
