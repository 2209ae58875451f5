"""The `vigil` command line: serve, demo, database upgrade, keys, verify, projection rebuild, export."""
from __future__ import annotations

import json
import logging
import sys
from typing import Optional

import typer

from events.case_list import place_lapsed
from events.case_projections import rebuild
from events.clock import SystemClock
from events.engine import make_engine
from events.migrations import upgrade
from events.personal_data import new_master_key

from . import metrics_setup
from .access import ROLES, SYSTEM
from .settings import Settings, load_settings

app = typer.Typer(help="Vigil: event-sourced alerting for people at risk of forced return.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
projections_app = typer.Typer(help="Projections.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(projections_app, name="projections")


def _engine(settings: Settings):
    return make_engine(settings.database_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest migration."""
    engine = _engine(load_settings())
    upgrade(engine)
    typer.echo("database at head")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: int = typer.Option(1, min=1, max=64, help="server processes sharing the port")) -> None:
    """Run the API (migrating the database first)."""
    settings = load_settings()
    # Before the app (and prometheus_client) is imported here or in the server processes it starts.
    done = metrics_setup.configure(settings.metrics_dir, workers, wipe_stale=True)
    try:
        _serve(settings, host, port, workers)
    finally:
        done()


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(process)d] %(name)s %(message)s")


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from .app import create_app
    from .container import build_container
    from .keys import bootstrap_admin

    configure_logging()
    engine = _engine(settings)
    upgrade(engine)
    # uvicorn's own access log prints query strings, which can carry a searched name: ours does not.
    options = {"host": host, "port": port, "log_level": "info", "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(build_container(settings)), **options)
        return
    # Done once here, so the worker processes' own start-up finds the admin key and none of them races to add it.
    bootstrap_admin(engine, SystemClock(), settings.bootstrap_admin_key)
    engine.dispose()
    # Each process builds its app from the same environment (service.app.app_from_environment).
    uvicorn.run("service.app:app_from_environment", factory=True, workers=workers, **options)


@app.command()
def worker() -> None:
    """Run the delivery worker and scheduler tick only (run several against PostgreSQL: no duplicates, no leader)."""
    import asyncio
    import signal

    configure_logging()
    settings = load_settings()
    # Before the container (and prometheus_client) is imported; counts reach /metrics only through a shared directory.
    metrics_setup.configure(settings.metrics_dir, 1)
    from .container import build_container
    from .metrics import process_exit
    from .scheduler import start_scheduler

    upgrade(_engine(settings))
    box = build_container(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        scheduler = start_scheduler(box)
        typer.echo("delivery worker running", err=False)
        sys.stdout.flush()
        try:
            await box.worker.run_forever(stop)
        finally:
            scheduler.shutdown(wait=True)

    asyncio.run(main())
    box.close()
    process_exit()


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000,
         serve_after: bool = typer.Option(True, "--serve/--no-serve", help="start the API after loading")) -> None:
    """Create a master key if needed, load the real cases from the seed documents, print an admin key, serve."""
    settings = load_settings()
    metrics_setup.configure(settings.metrics_dir, 1, wipe_stale=True)  # before prometheus_client is imported
    from .container import build_container
    from .demo import load_demo
    from .keys import create_key

    if not settings.master_key and not settings.master_key_file.exists():
        settings.master_key_file.write_text(new_master_key() + "\n")
        settings.master_key_file.chmod(0o600)
        typer.echo(f"created master key file {settings.master_key_file} (keep it safe, never commit it)")
    upgrade(_engine(settings))
    box = build_container(settings)
    loaded = load_demo(box, settings.seeds_dir)
    typer.echo(f"demo data: {loaded} cases loaded" if loaded else "demo data: already loaded")
    key = create_key(box.engine, box.clock, "admin", "rapid-response", "demo admin")
    box.close()
    typer.echo(f"admin API key (shown once): {key}")
    typer.echo(f"dashboard: http://{host}:{port}/  (sign in with that key)   API docs: http://{host}:{port}/docs")
    if serve_after:
        _serve(settings, host, port)


@keys_app.command("create")
def keys_create(role: str = typer.Option(..., help="|".join(ROLES)), team: str = typer.Option(...),
                name: str = typer.Option(...)) -> None:
    """Create an API key; the key alone is printed on the last line."""
    from .keys import create_key

    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    typer.echo(f"created {role} key for team {team} (shown once):")
    typer.echo(create_key(_engine(load_settings()), SystemClock(), role, team, name))


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    from .keys import list_keys

    for key in list_keys(_engine(load_settings())):
        typer.echo(f"{key['id']}  {key['prefix']}…  {key['role']:<6}  {key['team']:<16}  "
                   f"{'revoked' if key['revoked'] else 'active '}  {key['name']}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key by id."""
    from .keys import revoke_key

    if not revoke_key(_engine(load_settings()), SystemClock(), key_id):
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@app.command()
def verify(case: Optional[str] = typer.Option(None, "--case", help="one case id; all cases if omitted")) -> None:
    """Recompute hash chains; exit 1 naming the first bad version of any broken case."""
    from events.store import EventStore

    store = EventStore(_engine(load_settings()), SystemClock())
    broken = 0
    ids = [case] if case else store.stream_ids()
    for stream_id in ids:
        result = store.verify(stream_id)
        if result.events == 0:
            typer.echo(f"{stream_id}: no such case", err=True)
            broken += 1
        elif not result.ok:
            typer.echo(f"{stream_id}: BROKEN at version {result.bad_version}: {result.reason}")
            broken += 1
        elif case:
            typer.echo(f"{stream_id}: ok, {result.events} events, head {result.head}")
    typer.echo(f"{len(ids) - broken} of {len(ids)} cases verified")
    if not case:
        from .access_log import AccessLog

        log_check = AccessLog(store.engine, SystemClock()).verify()
        if log_check["ok"]:
            typer.echo(f"access log: ok, {log_check['entries']} entries")
        else:
            typer.echo(f"access log: BROKEN at position {log_check['bad_position']}: {log_check['reason']}")
            broken += 1
    if broken:
        raise typer.Exit(1)


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Fold every case again from the event log, then place every case in the case list's order."""
    settings = load_settings()
    engine = _engine(settings)
    count = rebuild(engine)
    placed = place_lapsed(engine, SystemClock().now(), settings.contact_overdue_after, batches=10**9)
    typer.echo(f"rebuilt projections from {count} events; placed {placed} cases in the list order")


@app.command()
def export(case: str = typer.Option(..., "--case"), format: str = typer.Option("json", "--format")) -> None:
    """Write a case's whole history (the dossier) to stdout as json, csv or html."""
    from .cases import NotFound
    from .container import build_container
    from .exports import dossier_html, events_csv

    if format not in ("json", "csv", "html"):
        raise typer.BadParameter("must be json, csv or html", param_hint="--format")
    box = build_container(load_settings())
    try:
        dossier = box.cases.export(SYSTEM, case)
    except NotFound:
        typer.echo(f"no such case {case}", err=True)
        raise typer.Exit(1)
    out = {"json": lambda: json.dumps(dossier, indent=2, ensure_ascii=False),
           "csv": lambda: events_csv(dossier["events"]), "html": lambda: dossier_html(dossier)}[format]()
    sys.stdout.write(out + ("\n" if not out.endswith("\n") else ""))
