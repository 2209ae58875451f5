"""`vigil import FILE`: bring a team's history in, with a progress bar on a terminal and a summary at the end."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from pydantic import TypeAdapter, ValidationError

from events.catalogue import TeamName

from . import bootstrap
from .access import Principal
from .gc_pacing import fewer_collections

if TYPE_CHECKING:
    from .importer import ImportSummary

# Events per transaction by default (service/importer.py's BATCH_EVENTS, which a test keeps equal): the reader and
# importer are imported only when the command runs, because they import the metrics, and `vigil worker` and
# `vigil serve` must set the metrics directory before prometheus_client is first imported.
BATCH_EVENTS = 2000

FORMATS = ("ndjson", "csv")


def import_command(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="NDJSON or CSV file"),
        team: str = typer.Option(..., "--team", help="the team whose case refs these are, and who may see the cases"),
        check: bool = typer.Option(False, "--check", help="only validate: report every bad line, write nothing"),
        fmt: Optional[str] = typer.Option(None, "--format", help="ndjson|csv (default: from the file's extension)"),
        batch_size: int = typer.Option(BATCH_EVENTS, "--batch-size", min=1, max=50_000,
                                       help="events per transaction"),
) -> None:
    """Import cases and events (see README, "Bulk import"); history pages nobody. Exit 1 if any line is bad."""
    fmt = fmt or ("csv" if file.suffix.lower() == ".csv" else "ndjson")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        TypeAdapter(TeamName).validate_python(team)
    except ValidationError:
        raise typer.BadParameter("not a valid team name", param_hint="--team") from None
    from .import_lines import reader_for

    box = bootstrap.container()
    box.imports.batch_events = batch_size
    who = Principal("import", "vigil import", "admin", team, kind="system")
    size = file.stat().st_size
    try:
        with file.open("rb") as handle, fewer_collections():
            lines = reader_for(fmt, handle)
            if sys.stdout.isatty():
                summary = _with_bar(box, who, lines, check, size)
            else:
                summary = box.imports.run(who, lines, check)
    finally:
        box.close()
    _report(summary)
    if summary.bad_lines:
        raise typer.Exit(1)


def _with_bar(box, who, lines, check: bool, size: int) -> ImportSummary:
    from rich.progress import (BarColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TransferSpeedColumn(), TextColumn("{task.fields[rate]:,.0f} events/s"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("checking" if check else "importing", total=size, rate=0.0)

        def tell(events: int, read: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0
            bar.update(task, completed=read, rate=events / elapsed if elapsed else 0.0)

        return box.imports.run(who, lines, check, tell)


def _report(summary: ImportSummary) -> None:
    for p in summary.problems:
        typer.echo(f"line {p.line}: {p.field}: {p.message}", err=True)
    if summary.bad_lines > len({p.line for p in summary.problems}):
        typer.echo(f"... and more: {summary.bad_lines} bad lines in all", err=True)
    if summary.checked_only:
        typer.echo(f"checked: {summary.bad_lines} bad lines; nothing written")
        return
    typer.echo(f"cases opened: {summary.cases_opened}, events stored: {summary.events_stored}, "
               f"skipped as already present: {summary.already_present}, bad lines: {summary.bad_lines}")
