"""A small modal that asks for frame numbers: one for add/remove, two (``N M`` or ``N->M``) for a move."""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

_NUMBERS = re.compile(r"^\s*(\d+)\s*(?:(?:->|→|,|\s)\s*(\d+))?\s*$")


def parse_frames(text: str, count: int) -> tuple[int, ...] | str:
    """``count`` non-negative frame numbers from ``text``, or the reason they cannot be read."""
    match = _NUMBERS.match(text)
    values = tuple(int(g) for g in match.groups() if g is not None) if match else ()
    if len(values) != count:
        return "type a frame number" if count == 1 else "type two frame numbers: FROM TO (or FROM->TO)"
    return values


class FramePrompt(ModalScreen[tuple[int, ...] | None]):
    """Ask for ``count`` frame numbers; dismisses with them, or ``None`` on escape."""

    CSS_PATH = "prompt.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, count: int = 1, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.count = count
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="prompt-title")
            placeholder = "frame" if self.count == 1 else "from to"
            yield Input(value=self.value, placeholder=placeholder, id="frames")
            yield Static("enter to apply · escape to cancel", id="prompt-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        parsed = parse_frames(event.value, self.count)
        if isinstance(parsed, str):
            self.query_one("#prompt-error", Static).update(f"[b]{parsed}[/b]")
            return
        self.dismiss(parsed)

    def action_cancel(self) -> None:
        self.dismiss(None)
