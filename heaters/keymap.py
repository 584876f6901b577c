"""One key map for the review page and the operator console: the same key means the same action in both.

Each ``KeyBinding`` names an action, the keys that run it in the browser (``KeyboardEvent.key`` values with
``Ctrl+``/``Shift+`` in front; letters lower case, ``Space`` for the space bar) with the argument each key
passes, the help text, and — for actions the console has too — its Textual key and action. The page's key
handling and help overlay are built from ``page_table()`` (sent as JSON); the console's bindings and help
from ``console_bindings()``. Pure data: no I/O, no UI library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyBinding:
    group: str
    action: str
    keys: tuple[tuple[str, int | float | None], ...]  # (browser key spec, argument)
    shown: str  # the keys as the help shows them
    help: str
    console_key: str = ""  # Textual key name, when the console offers this action
    console_action: str = ""  # Textual action string
    console_label: str = ""  # short footer label
    console_help: str = ""  # the console's wording (it asks for frame numbers instead of a playhead)


KEYS: tuple[KeyBinding, ...] = (
    KeyBinding("Move", "step", (("ArrowLeft", -1), ("ArrowRight", 1)), "←  →",
               "previous / next frame (hold to speed up)"),
    KeyBinding("Move", "step10", (("Shift+ArrowLeft", -10), ("Shift+ArrowRight", 10)), "Shift+←  Shift+→",
               "10 frames back / forward"),
    KeyBinding("Move", "edge", (("Home", -1), ("End", 1)), "Home  End", "first / last frame of the clip"),
    KeyBinding("Move", "cut", (("[", -1), ("]", 1)), "[  ]", "previous / next cut"),
    KeyBinding("Move", "play", (("Space", None),), "Space", "play / pause (at the speed control's speed)"),
    KeyBinding("Move", "shuttle", (("j", -1), ("k", 0), ("l", 1)), "J  K  L",
               "play backwards / pause / forwards; J or L again: 2×, 4×, 8×"),
    KeyBinding("Move", "shuttleStep", (), "K+J  K+L", "hold K: one frame back / forward"),
    KeyBinding("Move", "goto", (("g", None),), "G", "go to a frame number or timecode",
               "g", "goto", "Go to", "Select the clip holding frame N"),
    KeyBinding("Move", "loop", (("Shift+l", None),), "Shift+L", "loop the clip on / off"),
    KeyBinding("Move", "mute", (("Shift+m", None),), "Shift+M", "sound on / off"),
    KeyBinding("Move", "zoom", (("+", 0.5), ("=", 0.5), ("-", 2), ("_", 2)), "+  −", "zoom the timeline in / out"),
    KeyBinding("Edit cuts", "addCut", (("c", None),), "C", "cut here (a new clip starts at this frame)",
               "c", "add_cut", "Cut", "Add a cut at frame N (splits the clip holding N)"),
    KeyBinding("Edit cuts", "removeStart", (("x", None),), "X",
               "remove the cut at the clip's start (merge with the previous clip)",
               "x", "remove_cut", "Remove", "Remove the cut at frame N (merges its two clips)"),
    KeyBinding("Edit cuts", "removeEnd", (("Shift+x", None),), "Shift+X",
               "remove the cut at the clip's end (merge with the next clip)"),
    KeyBinding("Edit cuts", "moveCut", ((",", -1), ("<", -1), (".", 1), (">", 1)), ",  .",
               "move the nearest cut 1 frame earlier / later (or drag it on the timeline)"),
    KeyBinding("Edit cuts", "moveHere", (("m", None),), "M", "move the nearest cut to this frame",
               "m", "move_cut", "Move", "Move the cut at frame N to frame M"),
    KeyBinding("Edit cuts", "trimIn", (("i", None),), "I", "trim: the clip starts here, the part before is rejected",
               "i", "trim('in')", "Trim in", "Trim the selected clip to start at frame N (rejects the part before)"),
    KeyBinding("Edit cuts", "trimOut", (("o", None),), "O", "trim: the clip ends here, the part after is rejected",
               "o", "trim('out')", "Trim out", "Trim the selected clip to end at frame N (the part after is rejected)"),
    KeyBinding("Decide", "approve", (("a", None),), "A", "approve the clip (queues its export) and open the next",
               "a", "decide('approve')", "Approve", "Approve the selected clip (queues its export)"),
    KeyBinding("Decide", "skip", (("s", None),), "S", "skip the clip and open the next",
               "s", "decide('skip')", "Skip", "Skip the selected clip"),
    KeyBinding("Decide", "reject", (("r", None),), "R", "reject the clip and open the next",
               "r", "decide('reject')", "Reject", "Reject the selected clip"),
    KeyBinding("Decide", "reopen", (("Shift+a", None),), "Shift+A",
               "reopen an approved or exported clip (its export is withdrawn)",
               "A", "reopen", "Reopen", "Reopen the selected approved or exported clip (its export is withdrawn)"),
    KeyBinding("Decide", "clip", (("n", 1), ("p", -1)), "N  P", "next / previous clip without deciding"),
    KeyBinding("Decide", "listClip", (("ArrowDown", 1), ("ArrowUp", -1)), "↓  ↑",
               "next / previous clip in the clip list (as filtered)"),
    KeyBinding("Decide", "undo", (("z", None), ("Ctrl+z", None)), "Z  Ctrl+Z", "undo your last operation on this video",
               "z", "undo", "Undo", "Undo your last operation on this video"),
    KeyBinding("Decide", "redo", (("Shift+z", None), ("Ctrl+Shift+z", None), ("Ctrl+y", None)),
               "Shift+Z  Ctrl+Shift+Z", "redo", "Z", "redo", "Redo", "Redo the operation you undid last"),
    KeyBinding("Decide", "help", (("?", None),), "?", "show / hide this help"),
    KeyBinding("Decide", "close", (("Escape", None),), "Esc", "close this help"),
)


def page_table() -> dict[str, Any]:
    """The page's key map as JSON: groups of [shown keys, action, help] for the overlay, and key spec ->
    [action, argument] for matching key events."""
    groups: dict[str, list[list[str]]] = {}
    keys: dict[str, list[Any]] = {}
    for binding in KEYS:
        groups.setdefault(binding.group, []).append([binding.shown, binding.action, binding.help])
        for spec, arg in binding.keys:
            if spec in keys:
                raise ValueError(f"key {spec} is bound twice")
            keys[spec] = [binding.action, arg]
    return {"groups": [{"title": t, "bindings": b} for t, b in groups.items()], "keys": keys}


def console_bindings() -> list[KeyBinding]:
    """The bindings the console's cut editor offers, with the same keys as the page."""
    return [b for b in KEYS if b.console_key]
