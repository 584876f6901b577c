"""Pipeline screen: is work flowing? States, queue depths, work in progress, throughput, failures and retry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from heaters.services import retry, status
from heaters.tui import format as fmt
from heaters.tui.base import PollingScreen
from heaters.tui.tables import cursor_key, replace_rows


@dataclass
class PipelineData:
    counts: dict[str, dict[str, int]]
    wip: list[dict[str, Any]]
    throughput: dict[str, Any]
    failures: list[dict[str, Any]]
    queues: list[status.QueueDepth] | None
    queue_problem: str


def counts_line(label: str, counts: dict[str, int]) -> str:
    """``Videos 12: 3 ready · 1 encoding`` — only the states that hold something, in pipeline order."""
    total = sum(v for k, v in counts.items() if k != "superseded")
    busy = [f"{n} {state}" for state, n in counts.items() if n and state != "superseded"]
    return f"[b]{label} {total}[/b]: " + (" · ".join(busy) if busy else "none")


def first_line(text: str | None) -> str:
    """Tracebacks and long messages: the first line says what failed."""
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


class PipelineScreen(PollingScreen):
    """Counts per state, Dramatiq queue depths, running work with its lease, throughput, failures."""

    CSS_PATH = "pipeline.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry_selected", "Retry", tooltip="Retry the selected failed video or clip"),
        Binding("R", "retry_all", "Retry all", tooltip="Retry every failed video and clip"),
        Binding("ctrl+r", "reload", "Refresh", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="overview"):
            with Vertical(id="summary"):
                yield Static(id="video-counts")
                yield Static(id="clip-counts")
                yield Static(id="throughput")
                yield Static(id="queue-problem")
            queues: DataTable[str] = DataTable(id="queues", cursor_type="none", zebra_stripes=True)
            queues.can_focus = False
            queues.border_title = "Queues"
            yield queues
        with Horizontal(id="work"):
            wip: DataTable[str] = DataTable(id="wip", cursor_type="row", zebra_stripes=True)
            wip.border_title = "Work in progress"
            yield wip
            failed: DataTable[str] = DataTable(id="failures", cursor_type="row", zebra_stripes=True)
            failed.border_title = "Failures  (r retry · R retry all)"
            yield failed
        yield Static(id="problem")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#queues", DataTable).add_columns("queue", "ready", "working", "delayed", "dead")
        self.query_one("#wip", DataTable).add_columns("item", "what", "state", "lease", "age", "progress")
        self.query_one("#failures", DataTable).add_columns("item", "what", "state", "tries", "error")
        self.query_one("#problem", Static).display = False
        self.query_one("#failures", DataTable).focus()
        super().on_mount()

    async def fetch(self) -> PipelineData:
        now = self.heaters.clock()
        (queues, queue_problem), counts, wip, rate, failed = await asyncio.gather(
            self.heaters.queue_depths(), status.state_counts(), status.work_in_progress(now),
            status.throughput(10, now), status.failures(),
        )
        return PipelineData(counts, wip, rate, failed, queues, queue_problem)

    def show(self, data: PipelineData) -> None:
        self.query_one("#video-counts", Static).update(counts_line("Videos", data.counts["videos"]))
        self.query_one("#clip-counts", Static).update(counts_line("Clips", data.counts["clips"]))
        rate = data.throughput
        self.query_one("#throughput", Static).update(
            f"[b]Last {rate['minutes']} min[/b]: {rate['videos_ready']} videos ready "
            f"({rate['videos_per_minute']:.1f}/min) · {rate['clips_exported']} clips exported "
            f"({rate['clips_per_minute']:.1f}/min)"
        )
        self._show_queues(data.queues, data.queue_problem)
        replace_rows(self.query_one("#wip", DataTable), (
            (f"{row['kind']}:{row['id']}", (
                f"{row['kind']} {row['id']}", row["label"], row["state"], fmt.duration(row["lease_seconds"]),
                fmt.duration(row["age_seconds"]), fmt.progress_text(row["progress"]),
            )) for row in data.wip
        ))
        replace_rows(self.query_one("#failures", DataTable), (
            (f"{row['kind']}:{row['id']}", (
                f"{row['kind']} {row['id']}", row["label"], row["state"], str(row["attempts"]),
                first_line(row["error"]),
            )) for row in data.failures
        ))

    def _show_queues(self, queues: list[status.QueueDepth] | None, problem: str) -> None:
        table = self.query_one("#queues", DataTable)
        line = self.query_one("#queue-problem", Static)
        line.update(f"Queue depths unavailable: {problem}" if problem else "")
        line.display = bool(problem)
        table.border_subtitle = "unavailable" if problem else ""
        if queues is None:
            replace_rows(table, ((name, (name, "n/a", "n/a", "n/a", "n/a")) for name in status.QUEUES))
            return
        replace_rows(table, (
            (d.queue, (d.queue, str(d.ready), str(d.in_flight), str(d.delayed), str(d.dead))) for d in queues
        ))

    # --- actions -----------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.reload()

    def action_retry_selected(self) -> None:
        table = self.query_one("#failures", DataTable)
        key = cursor_key(table)
        if key is None:
            self.notify("no failure selected", severity="warning")
            return
        kind, _, raw = key.partition(":")
        row_id = int(raw)
        call = retry.retry_video if kind == "video" else retry.retry_clip

        def said(done: bool) -> str:
            if done:
                return f"{kind} {row_id} sent back to its stage"
            return f"{kind} {row_id} is no longer failed; nothing to retry"

        self.perform(lambda: call(row_id, self.heaters.tasks), said, title="retry")

    def action_retry_all(self) -> None:
        def said(counts: tuple[int, int]) -> str:
            return f"{counts[0]} videos and {counts[1]} clips sent back to their stages"

        self.perform(lambda: retry.retry_all(self.heaters.tasks), said, title="retry")

