"""`vigil log`: the log's verifier key, its latest checkpoint, and the audit of a checkpoint (or a dossier bundle)
kept from earlier against the log as it is now."""
from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import List, Optional

import typer

from events.log_tree import recomputed_root
from evidence.audit import audit
from evidence.checkpoints import stored_verifier
from evidence.notes import NoteError, VerifierKey, parse_verifier_key

from . import bootstrap

log_app = typer.Typer(help="The transparency log: its key, checkpoints and audit.", no_args_is_help=True)
EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2


@log_app.command("key")
def key() -> None:
    """Print the log's verifier key (made on first use), for the team to publish."""
    box = bootstrap.container()
    typer.echo(str(box.log_signing.key.verifier()))


@log_app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint now if the log has grown, offer it to the witnesses, and print the latest one."""
    box = bootstrap.container()
    box.log_signing.run(force=True)
    current = box.log_signing.current()
    if current is None:
        typer.echo("vigil: the log is empty: nothing to sign yet", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    typer.echo(current, nl=False)


def _keys(texts: List[str], option: str) -> list[VerifierKey]:
    try:
        return [parse_verifier_key(t.strip()) for t in texts]
    except NoteError as exc:
        typer.echo(f"vigil: {option}: {exc}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from None


def _read(path: Path) -> tuple[str, list[dict]]:
    """The checkpoint text, and the bundle's events when the file is a dossier bundle."""
    data = path.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return data.decode("utf-8", errors="replace"), []
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        text = bundle.read("checkpoint.txt").decode("utf-8", errors="replace")
        lines = bundle.read("events.jsonl").decode("utf-8").splitlines()
    return text, [json.loads(line) for line in lines if line.strip()]


@log_app.command("audit")
def audit_command(
        checkpoint_file: Path = typer.Option(..., "--checkpoint", exists=True, dir_okay=False,
                                             help="a checkpoint kept from earlier, or a dossier bundle (.zip)"),
        log_key: Optional[List[str]] = typer.Option(None, "--log-key",
                                                    help="the log key as the team published it (default: the one "
                                                         "stored in the database)"),
        witness_key: Optional[List[str]] = typer.Option(None, "--witness-key",
                                                        help="a witness whose cosignature must be on it")) -> None:
    """Check that the log as it is now still holds exactly what a checkpoint signed earlier; exit 1 if not."""
    parts = bootstrap.tools()
    text, bundled = _read(checkpoint_file)
    with parts.engine.connect() as conn:
        keys = _keys(log_key or [], "--log-key") or [k for k in [stored_verifier(conn)] if k]
        if not keys:
            typer.echo("vigil: no log key in this database: give --log-key", err=True)
            raise typer.Exit(EXIT_CANNOT_RUN)
        size = parts.store.log.size(conn)
        result = audit(text, keys, lambda n: recomputed_root(conn, n), size, _keys(witness_key or [],
                                                                                    "--witness-key"))
        changed = [e for e in bundled if not _same_leaf(parts.store.log, conn, e)]
    typer.echo(f"{'ok' if result.ok else 'FAILED'}: {result.message}")
    for event in changed:
        typer.echo(f"FAILED: event {event['event_id']} (log index {event['log_index']}) of the bundle is not what "
                   "the log now holds at that index")
    if not result.ok or changed:
        raise typer.Exit(EXIT_FAILED)


def _same_leaf(tree, conn, event: dict) -> bool:
    stored = tree.leaf(conn, int(event["log_index"]))
    return stored is not None and stored.canonical() == base64.b64decode(event["canonical"])
