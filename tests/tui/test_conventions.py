"""Console conventions: a palette command per action, a help screen listing every key, bindings in the footer."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import Footer, Label, Markdown

from heaters.settings import Settings
from heaters.tui.app import HeatersApp
from heaters.tui.audit import AuditScreen
from heaters.tui.commands import ActionCommands
from heaters.tui.editor import EditorScreen
from heaters.tui.help import HelpScreen, help_markdown
from heaters.tui.pipeline import PipelineScreen
from heaters.tui.prompt import FramePrompt, parse_frames
from heaters.tui.videos import VideosScreen
from tests.tui.conftest import Seed, make_app, until

SCREENS = (HeatersApp, PipelineScreen, VideosScreen, EditorScreen, AuditScreen)


def descriptions(owner: type) -> set[str]:
    return {b.description for b in owner.BINDINGS if b.description}  # type: ignore[attr-defined]


def palette_names(owner: type) -> set[str]:
    return {b.tooltip or b.description for b in owner.BINDINGS if b.description}  # type: ignore[attr-defined]


async def test_palette_offers_every_action_of_the_screen_and_runs_it(seeded: tuple[Settings, Seed]) -> None:
    settings, ids = seeded
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_video(ids.ready)
        await until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.loads > 0)
        names = {name for name, *_ in ActionCommands(app.screen)._commands()}
        assert names >= palette_names(EditorScreen) | palette_names(HeatersApp)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen.focused is not None)
        await pilot.press(*"remove cut")
        await until(pilot, lambda: app.screen.query_one(CommandList).highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FramePrompt))
        assert "Remove the cut" in str(app.screen.query_one("#prompt-title", Label).render())


async def test_help_lists_every_key_and_footer_shows_bindings(seeded: tuple[Settings, Seed]) -> None:
    settings, _ = seeded
    text = help_markdown()
    for owner in SCREENS:
        for name in descriptions(owner):
            assert f"| {name} |" in text, name
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.query_one(Footer)
        keys = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"Retry", "Retry all", "Pipeline", "Videos", "Audit", "Help", "Quit"} <= keys
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert app.screen.query_one(Markdown)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PipelineScreen))


def test_parse_frames() -> None:
    assert parse_frames(" 120 ", 1) == (120,)
    assert parse_frames("120->130", 2) == (120, 130)
    assert parse_frames("120 130", 2) == (120, 130)
    assert parse_frames("120", 2) == "type two frame numbers: FROM TO (or FROM->TO)"
    assert parse_frames("-5", 1) == "type a frame number"
    assert parse_frames("12 13", 1) == "type a frame number"
