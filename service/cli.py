"""The `vigil` command line: serve, demo, database upgrade, keys, verify, projection rebuild, name reindex, export."""
from __future__ import annotations

import base64
import json
import logging
import sys
from typing import Optional

import typer

from events.case_list import place_lapsed
from events.timing import Timing
from events.case_projections import rebuild
from events.log_tree import recomputed_root
from events.personal_data import create_master_key_file
from evidence.audit import audit
from evidence.checkpoints import latest, stored_verifier

from . import bootstrap, metrics_setup
from .access import ROLES, SYSTEM
from .cli_errors import ExplainingGroup
from .settings import Settings, load_settings
from .transparency_log import TransparencyLog
from .import_cli import import_command
from .malloc_arenas import limit_arenas
from .serving import _serve, check_keyring, ensure_port_free, exec_server, prepare, warn_unusable_channels
from .log_cli import log_app
from .witness_cli import witness_app

app = typer.Typer(no_args_is_help=True, cls=ExplainingGroup)  # its help is main's docstring
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to the dashboard.", no_args_is_help=True)
projections_app = typer.Typer(help="Projections.", no_args_is_help=True)
names_app = typer.Typer(help="The blind name index that search uses.", no_args_is_help=True)
telegram_app = typer.Typer(help="Telegram bots' webhooks (the Acknowledge button).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(projections_app, name="projections")
app.add_typer(names_app, name="names")
app.add_typer(telegram_app, name="telegram")
app.add_typer(witness_app, name="witness")
app.add_typer(log_app, name="log")
app.command("import")(import_command)


DEMO_ADMIN = ("admin", "rapid-response", "demo admin")  # role, team, name of the key `vigil demo` prints


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", help="with an error, show its traceback too")) -> None:
    """Vigil: event-sourced alerting for people at risk of forced return.

    A command that cannot run (no database or schema, no master key, a busy port) says why in one line, exit 2."""


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest migration (a SQLite file is created if missing)."""
    bootstrap.open_database(load_settings(), create=True).dispose()
    typer.echo("database at head")


@app.command()
def serve(ctx: typer.Context, host: str = "127.0.0.1", port: int = 8000,
          workers: int = typer.Option(1, min=1, max=64, help="server processes sharing the port")) -> None:
    """Run the API (migrating the database first)."""
    # A busy port, a missing master key or database problem is told here, in one line; then this process becomes
    # the server (service/serving.py), which never imports typer, click or Alembic.
    prepare(load_settings(), host, port)
    exec_server(host, port, workers, verbose=bool(ctx.parent and ctx.parent.params.get("verbose")))


@app.command()
def worker() -> None:
    """Run the delivery worker and scheduler tick only (run several against PostgreSQL: no duplicates, no leader)."""
    import asyncio
    import signal

    limit_arenas()  # before any thread starts
    settings = load_settings()
    # Before the container (and prometheus_client) is imported; counts reach /metrics only through a shared directory.
    metrics_setup.configure(settings.metrics_dir, 1)
    from .metrics import process_exit
    from .scheduler import start_scheduler

    check_keyring(settings)  # a wrong master key stops here, in one line, before anything is created
    bootstrap.configure_logging()
    warn_unusable_channels(settings)
    box = bootstrap.container(settings, create=True)

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
    """Create a master key if needed, load the demo's real cases, print an admin key (for the API) and a one-time
    invitation link for a first admin person (for the dashboard, where key sign-in is off), serve.

    Each run prints a new admin key and revokes the one the previous run printed."""
    settings = load_settings()
    metrics_setup.configure(settings.metrics_dir, 1, wipe_stale=True)  # before prometheus_client is imported
    from .demo import load_demo

    if serve_after:
        ensure_port_free(host, port)  # a start that would fail creates nothing, no key above all
    if not settings.master_key and create_master_key_file(str(settings.master_key_file)):
        typer.echo(f"created master key file {settings.master_key_file} (keep it safe, never commit it)")
    box = bootstrap.container(settings, create=True)
    loaded = load_demo(box)
    typer.echo(f"demo data: {loaded} cases loaded" if loaded else "demo data: already loaded")
    key = box.keys.create(*DEMO_ADMIN, replace=True)
    invitation = demo_invitation(box, f"http://{host}:{port}")
    box.close()
    typer.echo(f"admin API key (shown once): {key}  (for the API)")
    if invitation:
        typer.echo(f"first admin person: follow this one-time link (valid 72 hours) to choose a password and set up "
                   f"an authenticator app: {invitation}")
    else:
        typer.echo(f"first admin person: {DEMO_PERSON!r} exists already; sign in as them, or invite another admin "
                   f"with `vigil users invite`")
    typer.echo(f"dashboard: http://{host}:{port}/   API docs: http://{host}:{port}/docs")
    if serve_after:
        # The demo's dashboard takes people only: its key is for the API (VIGIL_DASHBOARD_KEY_SIGNIN=false).
        _serve(settings.model_copy(update={"dashboard_key_signin": False}), host, port)


DEMO_PERSON = "Demo admin"


def demo_invitation(box, base: str) -> str | None:
    """A one-time link for the demo's first admin person, or None once that person has enrolled."""
    from .errors import Conflict

    try:
        made = box.people.invite(SYSTEM, "admin", DEMO_ADMIN[1], DEMO_PERSON, None)
    except Conflict:  # invited and enrolled by a run before this one
        return None
    return base + made.url[len(box.people.public_url):]


@keys_app.command("create")
def keys_create(role: str = typer.Option(..., help="|".join(ROLES)), team: str = typer.Option(...),
                name: str = typer.Option(...)) -> None:
    """Create an API key; the key alone is printed on the last line."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    parts = bootstrap.tools()
    typer.echo(f"created {role} key for team {team} (shown once):")
    typer.echo(parts.keys.create(role, team, name))


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    for key in bootstrap.tools().keys.list():
        typer.echo(f"{key['id']}  {key['prefix']}…  {key['role']:<6}  {key['team']:<16}  "
                   f"{'revoked' if key['revoked'] else 'active '}  {key['name']}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key by id."""
    if not bootstrap.tools().keys.revoke(key_id):
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@users_app.command("invite")
def users_invite(role: str = typer.Option(..., help="|".join(ROLES)), team: str = typer.Option(...),
                 name: str = typer.Option(...), email: Optional[str] = typer.Option(None)) -> None:
    """Invite a person; the one-time link (valid 72 hours) alone is printed on the last line."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    from pydantic import ValidationError

    from .api.users import InvitationIn
    from .errors import Conflict

    try:
        body = InvitationIn(role=role, team=team, name=name, email=email)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(first["msg"], param_hint=f"--{first['loc'][0]}") from None
    try:
        made = bootstrap.tools().people.invite(SYSTEM, body.role, body.team, body.name, body.email)
    except Conflict as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"invitation for {body.name} ({body.role}, team {body.team}), valid until {made.expires_at:%Y-%m-%d %H:%M} UTC:")
    typer.echo(made.url)


@users_app.command("list")
def users_list() -> None:
    """List people (never a password, secret or code)."""
    for person in bootstrap.tools().people.list():
        state = "disabled" if person["disabled"] else "active  " if person["enrolled"] else "invited "
        typer.echo(f"{person['id']}  {person['role']:<6}  {person['team']:<16}  {state}  {person['name']}")


@users_app.command("disable")
def users_disable(person_id: str) -> None:
    """Disable a person by id; their sessions end at once."""
    from .errors import NotFound

    try:
        bootstrap.tools().people.disable(person_id)
    except NotFound:
        typer.echo(f"no person {person_id}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"disabled {person_id}; their sessions are ended")


@telegram_app.command("webhook")
def telegram_webhook(subscription_id: str) -> None:
    """Register VIGIL_PUBLIC_URL/integrations/telegram/ID as the bot's webhook (setWebhook with its webhook_secret),
    so its Acknowledge buttons reach Vigil; exit 1 if Telegram refuses."""
    import asyncio

    from notifications.channels.base import Delivered

    from .errors import NotFound

    box = bootstrap.container()

    async def register():
        try:
            return await box.chat_actions.register_telegram(subscription_id)
        finally:
            await box.worker.aclose()

    try:
        url, outcome = asyncio.run(register())
    except NotFound:
        typer.echo(f"no subscription {subscription_id} with a telegram channel that has a webhook_secret", err=True)
        raise typer.Exit(1) from None
    finally:
        box.close()
    if not isinstance(outcome, Delivered):
        typer.echo(f"Telegram refused the webhook {url}: {outcome.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"webhook registered: {url}")


@app.command()
def verify(case: Optional[str] = typer.Option(None, "--case", help="one case id; all cases if omitted")) -> None:
    """Recompute hash chains, and (for all cases) the access log and the whole Merkle log from the events; exit 1
    naming the first fault."""
    parts = bootstrap.tools()
    store = parts.store
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
        log_check = parts.access_log.verify()
        if log_check["ok"]:
            typer.echo(f"access log: ok, {log_check['entries']} entries")
        else:
            typer.echo(f"access log: BROKEN at position {log_check['bad_position']}: {log_check['reason']}")
            broken += 1
        tree = TransparencyLog(parts.engine, parts.store.log).check()
        if tree.ok:
            typer.echo(f"merkle log: ok, {tree.size} leaves, root {base64.b64encode(tree.root).decode()}")
        else:
            typer.echo(f"merkle log: BROKEN: {tree.problem}")
            broken += 1
        broken += not latest_checkpoint_holds(parts)
    if broken:
        raise typer.Exit(1)


def latest_checkpoint_holds(parts) -> bool:
    """The latest checkpoint the log signed, checked against a root recomputed from the events themselves."""
    with parts.engine.connect() as conn:
        last, key = latest(conn), stored_verifier(conn)
        if last is None or key is None:
            typer.echo("checkpoint: none signed yet")
            return True
        result = audit(last[1], [key], lambda n: recomputed_root(conn, n), parts.store.log.size(conn))
    typer.echo(f"checkpoint: {'ok' if result.ok else 'BROKEN'}: {result.message}")
    return result.ok


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Fold every case again from the event log, then place every case in the case list's order."""
    parts = bootstrap.tools()
    count = rebuild(parts.engine)
    placed = place_lapsed(parts.engine, parts.clock.now(), Timing.from_settings(parts.settings), batches=10**9)
    typer.echo(f"rebuilt projections from {count} events; placed {placed} cases in the list order")


@names_app.command("reindex")
def names_reindex() -> None:
    """Index every case's names again (each case opened once); needed once after upgrading a database that
    had cases before the index existed, which search opens case by case until then."""
    box = bootstrap.container()
    try:
        count = box.cases.reindex_all()
    finally:
        box.close()
    typer.echo(f"indexed the names of {count} cases")


@app.command()
def export(case: str = typer.Option(..., "--case"), format: str = typer.Option("json", "--format")) -> None:
    """Write a case's whole history (the dossier) to stdout as json, csv, html, pdf or bundle (a zip anyone checks
    offline with the verify.py inside it)."""
    from .dossier import dossier_html, dossier_pdf
    from .errors import NotFound
    from .exports import events_csv

    if format not in ("json", "csv", "html", "pdf", "bundle"):
        raise typer.BadParameter("must be json, csv, html, pdf or bundle", param_hint="--format")
    box = bootstrap.container()
    try:
        dossier = box.cases.export(SYSTEM, case, box.alerts.for_case(SYSTEM, case))
        binary = {"pdf": lambda: dossier_pdf(dossier, box.clock.now()),
                  "bundle": lambda: box.bundles.export(SYSTEM, case)}.get(format)
    except NotFound:
        typer.echo(f"no such case {case}", err=True)
        raise typer.Exit(1)
    if binary is not None:
        sys.stdout.buffer.write(binary())
        sys.stdout.buffer.flush()
        return
    out = {"json": lambda: json.dumps(dossier, indent=2, ensure_ascii=False),
           "csv": lambda: events_csv(dossier["events"]),
           "html": lambda: dossier_html(dossier, box.clock.now())}[format]()
    sys.stdout.write(out + ("\n" if not out.endswith("\n") else ""))
