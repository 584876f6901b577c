"""Help screen: what each screen shows and every key, generated from the bindings the screens declare."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

SECTIONS = {
    "Everywhere": "`ctrl+p` opens the command palette: every action below is there by name.",
    "Pipeline": (
        "Counts of videos and clips per state; queue depths read from Redis (ready, held by a worker, delayed, "
        "dead-lettered); work in progress with its lease and age; throughput over the last 10 minutes; "
        "failures with their error."
    ),
    "Videos": (
        "Every video with progress, frames, fps, clip counts and MECE status (valid, or the exact violation). "
        "The filter keeps videos whose id, title, state or MECE text contain all its words; enter opens one."
    ),
    "Cut editor": (
        "A cut is the frame where a clip starts. Every edit is sent with the version on screen: if the video "
        "changed meanwhile (browser, CLI, another console) the edit is refused and nothing changes; the new "
        "clips appear at the next refresh. Undo and redo apply to your own operations."
    ),
    "Audit": (
        "Every cut operation and review decision, newest at the bottom, with the clips each removed and "
        "created. Filter by video id, user and kind."
    ),
}


def _bindings(owner: type) -> list[Binding]:
    found = []
    for item in getattr(owner, "BINDINGS", []):
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.description:
            found.append(binding)
    return found


def help_markdown() -> str:
    """One section per screen: what it shows, then its keys, read from the screen classes' ``BINDINGS``."""
    from heaters.tui.app import HeatersApp
    from heaters.tui.audit import AuditScreen
    from heaters.tui.editor import EditorScreen
    from heaters.tui.pipeline import PipelineScreen
    from heaters.tui.videos import VideosScreen

    owners = {"Everywhere": HeatersApp, "Pipeline": PipelineScreen, "Videos": VideosScreen,
              "Cut editor": EditorScreen, "Audit": AuditScreen}
    parts = ["# heaters console"]
    for title, owner in owners.items():
        parts.append(f"\n## {title}\n\n{SECTIONS[title]}\n\n| key | action | |\n|---|---|---|")
        parts += [f"| `{b.key_display or b.key}` | {b.description} | {b.tooltip} |" for b in _bindings(owner)]
    return "\n".join(parts) + "\n"


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"), Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown())

    def action_close(self) -> None:
        self.dismiss()
