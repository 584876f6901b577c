"""The ``heaters`` command: one click group, one small module per area, imports deferred to each command."""

from __future__ import annotations

import sys
import threading

import click

from heaters.cli import common, core, pipeline, tui, web
from heaters.cli.common import CONTEXT


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="heaters")
@click.option("--debug", is_flag=True, envvar="HEATERS_DEBUG",
              help="Show the full traceback of an unexpected error (env HEATERS_DEBUG=1).")
def cli(debug: bool) -> None:
    """heaters turns long videos into reviewed, cleanly cut clips.

    \b
    Start here:   heaters up --demo      (everything on this machine, with a sample video)
    Ingest:       heaters ingest URL|FILE --wait
    Review:       open the printed URL, or use `heaters cuts` / `heaters review`
    Operate:      heaters tui

    Configuration comes from environment variables: see `heaters settings`.
    """
    common.DEBUG = debug


for module in (core, pipeline, web, tui):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """The console script: a user's mistake is one line on stderr, a traceback only with --debug."""
    threading.excepthook = _quiet_closed_loop
    try:
        cli(prog_name="heaters")
    except Exception as exc:
        if common.DEBUG:
            raise
        click.secho(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", fg="red",
                    err=True)
        click.echo("  hint: run again with --debug (or HEATERS_DEBUG=1) to see where it failed", err=True)
        sys.exit(1)


def _quiet_closed_loop(args: threading.ExceptHookArgs) -> None:
    """A database driver's helper thread that answers after its event loop closed (a command failing midway)
    says nothing the error line did not; anything else a thread raises is shown as usual."""
    exc: BaseException | None = args.exc_value
    while exc is not None:
        if isinstance(exc, RuntimeError) and "Event loop is closed" in str(exc) and not common.DEBUG:
            return
        exc = exc.__context__
    threading.__excepthook__(args)
