"""The `vigil serve` server process: the command line checks what it can, then execs this module, so the server
holds neither typer and click nor Alembic (a fresh database is migrated before the exec, by the process it replaces)."""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import traceback
from pathlib import Path

from . import bootstrap, metrics_setup
from .cannot_run import EXIT_CANNOT_RUN, EXPECTED, PortBusy, explain
from .malloc_arenas import limit_arenas
from .settings import Settings, load_settings

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the directory that holds service/ and events/


def ensure_port_free(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will, so a busy port is told before anything is created."""
    try:
        with socket.socket(socket.AF_INET6 if host and ":" in host else socket.AF_INET) as probe:  # as uvicorn
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise PortBusy(host, port, exc.strerror or str(exc)) from exc


def warn_unusable_channels(settings: Settings) -> None:
    """One warning at start for each channel kind this configuration cannot send through."""
    if not settings.smtp_host:
        logging.getLogger("vigil").warning("VIGIL_SMTP_HOST is not set: email subscriptions will be refused")


def check_keyring(settings: Settings) -> None:
    """The master key can be read and opens the keyring, if there is one yet (it raises MasterKeyError if not): a
    wrong key would otherwise start a process that fails every piece of work touching a person's data."""
    from events.keyring import Keyring

    from .container import read_master_key
    from .settings import keyring_path

    Keyring(keyring_path(settings), read_master_key(settings)).generations()


def prepare(settings: Settings, host: str, port: int) -> None:
    """What `vigil serve` checks and creates before it execs the server: the port is free, the master key can be
    read and opens the keyring if there is one (before the database is created: a missing or wrong key creates
    nothing), the database exists at the latest schema."""
    ensure_port_free(host, port)
    check_keyring(settings)
    bootstrap.configure_logging()  # a migration's progress is logged, as when the server migrated itself
    bootstrap.open_database(settings, create=True).dispose()


def exec_server(host: str, port: int, workers: int, verbose: bool = False) -> None:
    """Replace this process (same pid, so signals and supervisors see no change) with a fresh interpreter running
    `main` below. The package's own directory leads PYTHONPATH, so the new process runs this same code; -P keeps
    the working directory off its import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    args = [sys.executable, "-P", "-m", "service.serving", "--host", host, "--port", str(port),
            "--workers", str(workers), *(["--verbose"] if verbose else [])]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from .app import create_app

    ensure_port_free(host, port)
    check_keyring(settings)  # before the database is created: a missing or wrong key creates nothing
    bootstrap.configure_logging()
    warn_unusable_channels(settings)
    # uvicorn's own access log prints query strings, which can carry a searched name: ours does not.
    # A live page's event stream never ends by itself: a stop waits at most this long for it, then closes it.
    options = {"host": host, "port": port, "log_level": "info", "access_log": False, "timeout_graceful_shutdown": 3}
    if workers == 1:
        uvicorn.run(create_app(bootstrap.container(settings, create=True)), **options)
        return
    # Done once here, so the worker processes' own start-up finds the admin key and none of them races to add it.
    parts = bootstrap.tools(settings, create=True)
    parts.keys.bootstrap_admin(settings.bootstrap_admin_key)
    parts.close()
    # Each process builds its app from the same environment.
    uvicorn.run("service.bootstrap:app_from_environment", factory=True, workers=workers, **options)


def run(host: str, port: int, workers: int) -> None:
    limit_arenas()  # before any thread starts
    settings = load_settings()
    # Before the app (and prometheus_client) is imported here or in the server processes it starts.
    done = metrics_setup.configure(settings.metrics_dir, workers, wipe_stale=True)
    try:
        _serve(settings, host, port, workers)
    finally:
        done()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vigil serve")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        run(args.host, args.port, args.workers)
    except EXPECTED as exc:  # checked before the exec, but the database or the port can change in between
        if args.verbose:
            traceback.print_exc()
        print(f"vigil: {explain(exc)}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return 0


if __name__ == "__main__":
    sys.exit(main())
