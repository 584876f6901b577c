"""Front-end commands: serve (review web app) and tui (operator console)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
