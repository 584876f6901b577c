"""Snapshots of every screen over the seeded database (fixed ids, timestamps and clock; Redis down).

Update after an intended change of the layout with ``pytest tests/tui --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from heaters.settings import Settings
from tests.tui.conftest import Seed, make_app, until


def showing(*keys: str, video: bool = False) -> Callable[[Pilot[Any]], Any]:
    """Press ``keys`` (or open the first video), then wait until the screen on show has loaded its data."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: app.screen.loads > 0)  # type: ignore[attr-defined]
        if video:
            app.open_video(1)  # type: ignore[attr-defined]
        await pilot.press(*keys)
        # Every load has finished (help has none): what is drawn is the database as seeded.
        await until(pilot, lambda: getattr(app.screen, "loads", 1) > 0 and not getattr(app.screen, "busy", False))

    return run_before


@pytest.mark.parametrize(("size", "run_before"), [
    pytest.param((100, 30), showing(), id="pipeline"),
    pytest.param((80, 24), showing(), id="pipeline-80x24"),
    pytest.param((160, 40), showing(), id="pipeline-wide"),
    pytest.param((100, 30), showing("2"), id="videos"),
    pytest.param((100, 30), showing(video=True), id="editor"),
    pytest.param((80, 24), showing(video=True), id="editor-80x24"),
    pytest.param((160, 40), showing(video=True), id="editor-wide"),
    pytest.param((120, 30), showing("3"), id="audit"),
    pytest.param((100, 30), showing("question_mark"), id="help"),
])
def test_screen(seeded_sync: tuple[Settings, Seed], snap_compare: Any, size: tuple[int, int],
                run_before: Callable[[Pilot[Any]], Any]) -> None:
    settings, _ = seeded_sync
    assert snap_compare(make_app(settings), terminal_size=size, run_before=run_before)
