"""Cut editor: one video's clips in frame order, edited by frame number through ``heaters.services.review``.

Every edit carries the operator's name and ``expected_version`` = the version on screen, so an edit made
against a stale view is refused (and changes nothing) instead of silently landing on clips the operator never
saw. The screen polls the video, so edits made in the browser or the CLI appear here within a poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from heaters import keymap
from heaters.services import review, videos
from heaters.services.review import OpResult
from heaters.services.withdraw import discard
from heaters.storage import create_storage
from heaters.tui import format as fmt
from heaters.tui.base import PollingScreen
from heaters.tui.prompt import FramePrompt
from heaters.tui.tables import cursor_key, replace_rows


@dataclass
class VideoView:
    video: dict[str, Any]
    clips: list[dict[str, Any]]
    mece: list[str]
    history: list[dict[str, Any]]  # newest first


HISTORY = 50  # operations listed beside the clips on wide terminals


class EditorScreen(PollingScreen):
    """Add, remove and move cuts by frame number; undo and redo; approve, skip or reject a clip."""

    CSS_PATH = "editor.tcss"
    # The same keys as the review page (``heaters.keymap``); short labels fit the footer at 80 columns, the
    # tooltip is the palette's and help's longer text.
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(b.console_key, b.console_action, b.console_label, tooltip=b.console_help)
          for b in keymap.console_bindings()),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, video_id: int) -> None:
        super().__init__()
        self.video_id = video_id
        self.view: VideoView | None = None

    @property
    def version(self) -> int | None:
        """The cut version on screen: what every edit expects to still be current."""
        return self.view.video["cut_version"] if self.view else None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"video {self.video_id}: loading…", id="video-info")
        with Horizontal(id="panes"):
            table: DataTable[str] = DataTable(id="clips", cursor_type="row", zebra_stripes=True)
            table.border_title = "Clips"
            yield table
            # Shown from 120 columns on (editor.tcss): what happened to this video, newest first.
            history: DataTable[str] = DataTable(id="history", cursor_type="none", zebra_stripes=True)
            history.border_title = "Operations"
            history.can_focus = False
            yield history
        yield Static(id="problem")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#clips", DataTable)
        table.add_columns("no.", "id", "start", "end", "frames", "length", "starts at", "state", "reviewer")
        self.query_one("#history", DataTable).add_columns("op", "time", "user", "kind", "frame", "from")
        self.query_one("#problem", Static).display = False
        table.focus()
        super().on_mount()

    async def fetch(self) -> VideoView:
        video = await videos.get_video(self.video_id)
        clips = await videos.live_clips(self.video_id)
        mece = await videos.mece_problems(self.video_id)
        return VideoView(video, clips, mece, await videos.audit_log(self.video_id, limit=HISTORY))

    def show(self, data: VideoView) -> None:
        self.view = data
        video = data.video
        fps = fmt.fps_of(video)
        total = video["total_frames"]
        mece = "valid" if not data.mece else "; ".join(data.mece)
        self.query_one("#video-info", Static).update(
            f"[b]#{video['id']} {video['title']}[/b] · {video['state']} · {total} frames @ {fmt.fps_text(fps)} fps "
            f"({fmt.timecode(total, fps)}) · version {video['cut_version']} · MECE {mece} · "
            f"operator {self.heaters.user}{self._claim_text(video)}"
        )
        table = self.query_one("#clips", DataTable)
        replace_rows(table, (
            (str(c["id"]), (
                str(c["number"]), str(c["id"]), str(c["start_frame"]), str(c["end_frame"]),
                str(c["end_frame"] - c["start_frame"]),
                fmt.timecode(c["end_frame"] - c["start_frame"], fps), fmt.timecode(c["start_frame"], fps),
                c["state"], c["reviewed_by"] or "-",
            )) for c in data.clips  # "clip 7 of 31": the number the clip keeps, as the review page shows it
        ))
        table.border_subtitle = f"{len(data.clips)} clips"
        replace_rows(self.query_one("#history", DataTable), (
            (str(op["id"]), (
                str(op["id"]), fmt.stamp(op["created_at"])[11:], op["user"], op["kind"],
                fmt.frame(op["frame"]), fmt.frame(op["old_frame"]),
            )) for op in data.history
        ))

    def _claim_text(self, video: dict[str, Any]) -> str:
        """Who reviews this video in the browser right now: edits here land under their feet."""
        until = video.get("review_lease_until")
        if not video.get("review_user") or until is None:
            return ""
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if until < self.heaters.clock():
            return ""
        return f" · [b]{video['review_user']}[/b] is reviewing it (claim until {fmt.stamp(until)[11:]} UTC)"

    # --- helpers -----------------------------------------------------------------------------------------
    def selected_clip(self) -> dict[str, Any] | None:
        key = cursor_key(self.query_one("#clips", DataTable))
        if self.view is None or key is None:
            return None
        return next((c for c in self.view.clips if str(c["id"]) == key), None)

    def _edit(self, title: str, count: int, value: str, apply: Callable[[tuple[int, ...], int], Awaitable[Any]],
              said: Callable[[tuple[int, ...], OpResult], str]) -> None:
        """Ask for frames, then apply the edit against the version that was on screen when asked."""
        if self.version is None:
            self.notify("the video is still loading", severity="warning")
            return
        expected = self.version

        def done(frames: tuple[int, ...] | None) -> None:
            if frames:
                self.perform(lambda: apply(frames, expected), lambda result: said(frames, result), title="edited")

        self.app.push_screen(FramePrompt(title, count, value), done)

    @property
    def _min_length(self) -> int:
        return self.heaters.settings.min_clip_frames

    # --- actions -----------------------------------------------------------------------------------------
    def action_add_cut(self) -> None:
        clip = self.selected_clip()
        middle = str((clip["start_frame"] + clip["end_frame"]) // 2) if clip else ""
        self._edit(
            "Add a cut at frame", 1, middle,
            lambda f, v: review.add_cut(self.video_id, f[0], user=self.heaters.user, expected_version=v,
                                        min_length=self._min_length),
            lambda f, r: f"cut added at frame {f[0]} (version {r.cut_version})",
        )

    def action_remove_cut(self) -> None:
        clip = self.selected_clip()
        start = str(clip["start_frame"]) if clip and clip["start_frame"] > 0 else ""
        self._edit(
            "Remove the cut at frame", 1, start,
            lambda f, v: review.remove_cut(self.video_id, f[0], user=self.heaters.user, expected_version=v),
            lambda f, r: f"cut at frame {f[0]} removed (version {r.cut_version})",
        )

    def action_move_cut(self) -> None:
        clip = self.selected_clip()
        start = f"{clip['start_frame']} " if clip and clip["start_frame"] > 0 else ""
        self._edit(
            "Move the cut FROM to TO (frames)", 2, start,
            lambda f, v: review.move_cut(self.video_id, f[0], f[1], user=self.heaters.user, expected_version=v,
                                         min_length=self._min_length),
            lambda f, r: f"cut moved from frame {f[0]} to {f[1]} (version {r.cut_version})",
        )

    def action_undo(self) -> None:
        self._history(review.undo, "undone")

    def action_redo(self) -> None:
        self._history(review.redo, "redone")

    def _history(self, call: Callable[..., Awaitable[OpResult]], verb: str) -> None:
        if self.version is None:
            self.notify("the video is still loading", severity="warning")
            return
        expected = self.version

        async def run() -> OpResult:
            result = await call(self.video_id, user=self.heaters.user, expected_version=expected,
                                tasks=self.heaters.tasks)
            if result.withdrawn:  # an undone approval: its export's files go too
                await discard(create_storage(self.heaters.settings), result.withdrawn)
            return result

        self.perform(run, lambda r: f"{verb} (version {r.cut_version})", title=verb)

    def action_decide(self, decision: str) -> None:
        clip = self.selected_clip()
        if clip is None or self.version is None:
            self.notify("no clip selected", severity="warning")
            return
        expected = self.version
        self.perform(
            lambda: review.decide(clip["id"], decision, user=self.heaters.user, expected_version=expected,
                                  tasks=self.heaters.tasks),
            lambda r: f"clip {clip['id']}: {decision} (version {r.cut_version})", title=decision,
        )

    def action_trim(self, side: str) -> None:
        clip = self.selected_clip()
        if clip is None:
            self.notify("no clip selected", severity="warning")
            return
        edge = "first" if side == "in" else "last"
        self._edit(
            f"Trim clip {clip['id']}: its new {edge} frame", 1, "",
            lambda f, v: review.trim(clip["id"], side, f[0], user=self.heaters.user, expected_version=v,
                                     min_length=self._min_length),
            lambda f, r: f"clip {clip['id']} trimmed to {side} point {f[0]} (version {r.cut_version})",
        )

    def action_reopen(self) -> None:
        clip = self.selected_clip()
        if clip is None or self.version is None:
            self.notify("no clip selected", severity="warning")
            return
        expected = self.version

        async def reopen() -> OpResult:
            result = await review.reopen(clip["id"], user=self.heaters.user, reason="reopened in the console",
                                         expected_version=expected)
            await discard(create_storage(self.heaters.settings), result.withdrawn)
            return result

        self.perform(reopen, lambda r: f"clip {clip['id']} reopened (version {r.cut_version})", title="reopened")

    def action_goto(self) -> None:
        def done(frames: tuple[int, ...] | None) -> None:
            clip = next((c for c in (self.view.clips if self.view else [])
                         if frames and c["start_frame"] <= frames[0] < c["end_frame"]), None)
            if frames and clip is None:
                self.notify(f"no clip holds frame {frames[0]}", severity="warning")
            elif clip is not None:
                table = self.query_one("#clips", DataTable)
                table.move_cursor(row=table.get_row_index(str(clip["id"])))

        self.app.push_screen(FramePrompt("Go to the clip holding frame", 1), done)

    def action_back(self) -> None:
        self.dismiss()
