"""The pipeline table: one row per stage, consistent, and the source every state list is built from."""

from __future__ import annotations

from heaters import pipeline


def test_every_stage_hands_over_to_the_next_one() -> None:
    for stage in pipeline.STAGES:
        if stage.next is not None:
            following = pipeline.stage(stage.next)
            assert following.table == stage.table, stage.name
            assert following.ready == stage.done, f"{stage.name} finishes where {following.name} starts"
        assert stage.retry_to == stage.ready
    assert [s.name for s in pipeline.stages_of("video")] == ["download", "encode", "detect"]
    assert [s.name for s in pipeline.stages_of("clip")] == ["export", "keyframes", "embed"]
    assert [s.name for s in pipeline.stages_of("segment")] == ["segment"]
    assert [s.name for s in pipeline.stages_of("audio")] == ["audio"]


def test_names_are_unique_and_failures_name_their_stage() -> None:
    for field in ("name", "actor", "failed"):
        values = [getattr(s, field) for s in pipeline.STAGES]
        assert len(set(values)) == len(values), field
    for stage in pipeline.STAGES:
        assert pipeline.stage_of_failure(stage.failed) is stage


def test_state_lists_come_from_the_table() -> None:
    assert pipeline.states("video") == (
        "new", "downloading", "downloaded", "encoding", "encoded", "detecting", "ready",
        "download_failed", "encode_failed", "detect_failed",
    )
    assert pipeline.states("clip") == (
        "pending_review", "approved", "exporting", "exported", "keyframed", "embedded",
        "skipped", "rejected", "superseded", "encoding", "export_failed", "keyframe_failed", "embed_failed",
    )
    assert pipeline.states("segment") == ("pending", "encoding", "encoded", "failed")
    assert pipeline.states("audio") == ("pending", "encoding", "encoded", "audio_failed")
    assert pipeline.working_states("video") == ("downloading", "encoding", "detecting")
    assert set(pipeline.states_from("export")) == {
        "exporting", "exported", "keyframed", "embedded", "keyframe_failed", "embed_failed"
    }
    assert "exporting" not in pipeline.finished_states("export")
    assert {state: (s.name, running) for state, (s, running) in pipeline.positions("clip").items()} == {
        "approved": ("export", False), "exporting": ("export", True),
        "exported": ("keyframes", False), "keyframed": ("embed", False),
    }


def test_every_consumer_is_built_from_the_table() -> None:
    from heaters.cli import waiting
    from heaters.db import tables
    from heaters.services import queue, retry, status
    from heaters.services.stages import STAGE_FUNCTIONS

    names = [s.name for s in pipeline.STAGES]
    assert list(STAGE_FUNCTIONS) == names, "one work function per stage"
    assert {s.name: (s.actor, s.queue) for s in pipeline.STAGES} == queue.STAGES
    assert pipeline.states("video") == tables.VIDEO_STATES and pipeline.states("clip") == tables.CLIP_STATES
    failed = set(retry.VIDEO_RETRY) | set(retry.CLIP_RETRY) | set(retry.SEGMENT_RETRY) | set(retry.AUDIO_RETRY)
    assert failed == {s.failed for s in pipeline.STAGES}
    assert status.QUEUES == ("ingest", "encode", "export", "embed")
    assert waiting.STAGES == ("download", "encode", "detect") and pipeline.failed_states("video") == waiting.FAILED


def test_the_pure_module_imports_no_io_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, heaters.pipeline; "
        "print(sorted(m for m in ('av', 'piccolo', 'dramatiq', 'litestar', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
