"""The ``heaters`` command: one click group, one small module per area, imports deferred to each command."""

from __future__ import annotations

import click

from heaters.cli import core, pipeline, tui, web
from heaters.cli.common import CONTEXT


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="heaters")
def cli() -> None:
    """heaters turns long videos into reviewed, cleanly cut clips.

    \b
    Start here:   heaters up --demo      (everything on this machine, with a sample video)
    Ingest:       heaters ingest URL|FILE --wait
    Review:       open the printed URL, or use `heaters cuts` / `heaters review`
    Operate:      heaters tui

    Configuration comes from environment variables: see `heaters settings`.
    """


for module in (core, pipeline, web, tui):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="heaters")
