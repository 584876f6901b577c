"""Pipeline commands: ingest, scenes, workers, up, retry, doctor (filled in with the pipeline)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
