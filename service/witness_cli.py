"""`vigil witness`: keygen, serve and check, for a partner organisation that witnesses a team's log."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import typer

from evidence.notes import COSIGNATURE_V1, ED25519, NoteError, VerifierKey, generate_signer, parse_signer_key, \
    parse_verifier_key
from evidence.witness import Witness
from evidence.witness_state import StateError, StateFile

EXIT_INCONSISTENT = 1
EXIT_CANNOT_RUN = 2

witness_app = typer.Typer(help="Witness another team's Vigil log (c2sp.org/tlog-witness).", no_args_is_help=True)


def _fail(message: str, code: int = EXIT_CANNOT_RUN) -> typer.Exit:
    typer.echo(f"vigil: {message}", err=True)
    return typer.Exit(code)


def _log_keys(texts: List[str]) -> list[VerifierKey]:
    keys = []
    for text in texts:
        try:
            key = parse_verifier_key(text.strip())
        except NoteError as exc:
            raise _fail(f"--log-key {text[:40]!r}: {exc}") from exc
        if key.key_type != ED25519:
            raise _fail(f"--log-key {key.name}: a log's key is an Ed25519 (type 0x01) key, not a witness's")
        keys.append(key)
    return keys


def _witness(state: Path, log_keys: List[str]) -> Witness:
    state_file = StateFile(state)
    try:
        state_file.check_writable()
    except StateError as exc:
        raise _fail(str(exc)) from exc
    return Witness(state_file, _log_keys(log_keys))


@witness_app.command("keygen")
def keygen(name: str = typer.Option(..., help="the witness's name, e.g. witness.partner.example.org/w1"),
           out: Path = typer.Option(Path("witness.key"), help="where to write the private key (never overwritten)")
           ) -> None:
    """Make a witness key pair: the private key goes to --out (mode 0600); the verifier key is printed, to send
    to the team whose log you witness."""
    try:
        signer = generate_signer(name, COSIGNATURE_V1)
    except NoteError as exc:
        raise _fail(str(exc)) from exc
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _fail(f"{out} exists: a witness key is never overwritten (choose another --out)")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror}") from exc
    with os.fdopen(fd, "w") as file:
        file.write(f"{signer}\n")
    typer.echo(str(signer.verifier))


@witness_app.command("serve")
def serve(key: Path = typer.Option(..., help="the private key file `vigil witness keygen` wrote"),
          state: Path = typer.Option(..., help="the state file (created on first use; keep it and back it up)"),
          log_key: List[str] = typer.Option(..., help="the verifier key of a log to witness (repeatable)"),
          host: str = "127.0.0.1", port: int = 8080) -> None:
    """Answer POST /add-checkpoint: verify each checkpoint a log sends against the last one seen, remember it,
    and cosign it; refuse (and keep as evidence) any that contradicts it."""
    import uvicorn

    from evidence.witness_http import create_witness_app

    try:
        signer = parse_signer_key(key.read_text())
    except OSError as exc:
        raise _fail(f"cannot read the witness key {key}: {exc.strerror}") from exc
    except NoteError as exc:
        raise _fail(f"{key} is not a witness key: {exc}") from exc
    witness = _witness(state, log_key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"witness {signer.verifier.name} for {', '.join(k.name for k in witness.log_keys)}", err=True)
    uvicorn.run(create_witness_app(witness, signer), host=host, port=port, log_level="info")


@witness_app.command("check")
def check(state: Path = typer.Option(..., help="the state file (created on first use)"),
          log_key: List[str] = typer.Option(..., help="the log's verifier key"),
          log: str = typer.Option(..., "--log", help="the Vigil server's base URL, e.g. https://vigil.example.org"),
          api_key: Optional[str] = typer.Option(None, envvar="VIGIL_WITNESS_API_KEY",
                                                help="an API key, if the log asks for one")) -> None:
    """Pull mode: fetch the log's latest checkpoint and a consistency proof from the size held, and remember it if
    consistent (exit 0). An inconsistent log is logged, kept as evidence, and exits 1; a log that cannot be
    reached exits 2."""
    import httpx

    from evidence.witness_pull import LogClient, LogUnreachable, check_log

    witness = _witness(state, log_key)
    try:
        with httpx.Client(timeout=30) as client:
            outcome = check_log(witness, LogClient(log, client, api_key), list(witness.log_keys),
                                datetime.now(timezone.utc))
    except LogUnreachable as exc:
        raise _fail(f"{exc}; nothing was checked") from exc
    except (StateError, OSError) as exc:
        raise _fail(f"the witness state could not be kept: {exc}") from exc
    if not outcome.accepted:  # a conflict was logged at CRITICAL and kept in the state as it was found
        raise _fail(f"the log at {log} failed the check ({outcome.status}): {outcome.reason}", EXIT_INCONSISTENT)
    typer.echo(f"{outcome.checkpoint.origin}: {outcome.reason}")
