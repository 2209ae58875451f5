"""How the command line reports an expected failure: one line on stderr and exit 2 (a traceback only with --verbose)."""
from __future__ import annotations

import traceback

import click
from typer.core import TyperGroup

from .cannot_run import EXIT_CANNOT_RUN, EXPECTED, SET_URL, PortBusy, explain  # noqa: F401 (imported from here)


class ExplainingGroup(TyperGroup):
    """The top-level command group: every subcommand runs inside its `invoke`, so this one place turns the
    expected failures of all of them into one line and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EXPECTED as exc:
            if ctx.params.get("verbose"):
                traceback.print_exc()
            click.echo(f"vigil: {explain(exc)}", err=True)
            ctx.exit(EXIT_CANNOT_RUN)
