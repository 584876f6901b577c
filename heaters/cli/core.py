"""Commands on the database: migrate, settings, videos, clips, cuts, review, undo/redo, validate, audit, user."""

from __future__ import annotations

import sys
from typing import Any

import click

from heaters import pipeline
from heaters.cli.common import (
    CONTEXT,
    FRAME,
    FRAME_CONTEXT,
    ROW_ID,
    echo_json,
    json_option,
    load_settings,
    run_db,
    table,
    user_option,
    version_option,
)
from heaters.settings import Settings


@click.command(context_settings=CONTEXT)
def migrate() -> None:
    """Create or update the database schema (safe to run repeatedly; the Procfile's release step)."""
    from heaters.db.engine import connect
    from heaters.db.migrate import migrate as apply

    async def work(settings: Settings) -> list[str]:
        async with connect(settings) as engine:
            return await apply(engine)

    import asyncio

    settings = load_settings()
    try:
        done = asyncio.run(work(settings))
    except OSError as exc:
        from heaters.cli.common import fail
        from heaters.errors import ConfigError

        fail(ConfigError(f"cannot reach the database: {exc}", "check DATABASE_URL"))
        return
    click.echo(f"applied {', '.join(done)}" if done else "database is up to date")


@click.command("settings", context_settings=CONTEXT)
@json_option
def show_settings(as_json: bool) -> None:
    """Print every setting with its environment variable and current value (secrets masked)."""
    rows = [{"env": env, "value": value, "description": doc} for env, value, _, doc in load_settings().described()]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['env']:<28} {row['value']}")
        click.secho(f"{'':<28} {row['description']}", dim=True)


@click.command(context_settings=CONTEXT)
@click.option("--state", type=click.Choice(pipeline.states("video")), help="Only videos in this state.")
@json_option
def videos(state: str | None, as_json: bool) -> None:
    """List videos with their state, frame count and fps."""
    from heaters.services import videos as service

    rows = run_db(lambda _: service.list_videos(state))
    if as_json:
        echo_json(rows)
        return
    # A video whose download failed has no title yet: its source says which it is.
    shown = [{**r, "fps": f"{r['fps_num']}/{r['fps_den']}", "frames": r["total_frames"],
              "title": r["title"] or r.get("source") or ""} for r in rows]
    table(shown, ["id", "state", "frames", "fps", "cut_version", "title"])


@click.command(context_settings=CONTEXT)
@click.argument("video", type=ROW_ID)
@click.option("--all", "show_all", is_flag=True, help="Include superseded clips.")
@json_option
def clips(video: int, show_all: bool, as_json: bool) -> None:
    """List the clips of VIDEO in frame order (half-open frame ranges [start, end))."""
    from heaters.db.tables import Clip
    from heaters.services import videos as service

    async def work(_: Settings) -> list[dict[str, Any]]:
        await service.get_video(video)
        if show_all:
            return await Clip.select().where(Clip.source_video == video).order_by(Clip.start_frame)
        return await service.live_clips(video)

    rows = run_db(work)
    if as_json:
        echo_json(rows)
        return
    table([{**r, "start": r["start_frame"], "end": r["end_frame"], "frames": r["end_frame"] - r["start_frame"]}
           for r in rows], ["number", "id", "start", "end", "frames", "state", "reviewed_by"])


@click.group(context_settings=CONTEXT)
def cuts() -> None:
    """List and edit the cut points of a video by frame number."""


@cuts.command("list")
@click.argument("video", type=ROW_ID)
@json_option
def cuts_list(video: int, as_json: bool) -> None:
    """Print the frames where VIDEO's clips start (frame 0 excluded)."""
    from heaters.services import videos as service

    async def work(_: Settings) -> dict[str, Any]:
        row = await service.get_video(video)
        return {"video": video, "cut_version": row["cut_version"], "frames": row["total_frames"],
                "cuts": list(await service.current_cuts(video))}

    data = run_db(work)
    if as_json:
        echo_json(data)
    else:
        click.echo(" ".join(map(str, data["cuts"])) or "(no cuts: one clip covers the video)")


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(f"{result.kind}: operation {result.operation_id}, video {result.video_id} now at version "
                   f"{result.cut_version}; removed clips {list(result.removed)}, created {list(result.created)}")


@cuts.command("add", context_settings=FRAME_CONTEXT)
@click.argument("video", type=ROW_ID)
@click.argument("frame", type=FRAME)
@user_option
@version_option
@json_option
def cuts_add(video: int, frame: int, user: str, expected_version: int | None, as_json: bool) -> None:
    """Add a cut so that a new clip starts at FRAME."""
    from heaters.services import review

    _print_result(run_db(lambda s: review.add_cut(video, frame, user=user, expected_version=expected_version,
                                                  min_length=s.min_clip_frames)), as_json)


@cuts.command("remove", context_settings=FRAME_CONTEXT)
@click.argument("video", type=ROW_ID)
@click.argument("frame", type=FRAME)
@user_option
@version_option
@json_option
def cuts_remove(video: int, frame: int, user: str, expected_version: int | None, as_json: bool) -> None:
    """Remove the cut at FRAME, merging the two clips that meet there."""
    from heaters.services import review

    _print_result(run_db(lambda _: review.remove_cut(video, frame, user=user, expected_version=expected_version)),
                  as_json)


@cuts.command("move", context_settings=FRAME_CONTEXT)
@click.argument("video", type=ROW_ID)
@click.argument("frame", type=FRAME)
@click.argument("new", type=FRAME)
@user_option
@version_option
@json_option
def cuts_move(video: int, frame: int, new: int, user: str, expected_version: int | None, as_json: bool) -> None:
    """Move the cut at FRAME to NEW (between its neighbouring cuts)."""
    from heaters.services import review

    _print_result(run_db(lambda s: review.move_cut(video, frame, new, user=user, expected_version=expected_version,
                                                   min_length=s.min_clip_frames)), as_json)


@click.group(context_settings=CONTEXT)
def review() -> None:
    """Approve, skip or reject a clip (approval queues its export)."""


def _decision(name: str, help_text: str) -> click.Command:
    @click.argument("clip", type=ROW_ID)
    @user_option
    @version_option
    @json_option
    def command(clip: int, user: str, expected_version: int | None, as_json: bool) -> None:
        from heaters.services import review as service
        from heaters.services.queue import reachable_queue

        async def work(settings: Any) -> Any:
            with reachable_queue(settings) as tasks:  # an approval's export starts at once
                return await service.decide(clip, name, user=user, expected_version=expected_version, tasks=tasks)

        _print_result(run_db(work), as_json)

    command.__doc__ = help_text
    return review.command(name)(command)


for _name, _help in (("approve", "Approve CLIP: it will be exported from the master."),
                     ("skip", "Skip CLIP: leave it for later, not exported."),
                     ("reject", "Reject CLIP: it will never be exported.")):
    _decision(_name, _help)


def _history_command(name: str) -> click.Command:
    @click.argument("video", type=ROW_ID)
    @user_option
    @version_option
    @json_option
    def command(video: int, user: str, expected_version: int | None, as_json: bool) -> None:
        from heaters.services import review as service
        from heaters.services.queue import reachable_queue

        op = getattr(service, name)

        async def work(settings: Any) -> Any:
            with reachable_queue(settings) as tasks:  # a redone approval is exported again at once
                result = await op(video, user=user, expected_version=expected_version, tasks=tasks)
            if result.withdrawn:  # an undone approval: its export's files go too
                from heaters.services.withdraw import discard
                from heaters.storage import create_storage

                await discard(create_storage(settings), result.withdrawn)
            return result

        _print_result(run_db(work), as_json)

    command.__doc__ = (f"{name.capitalize()} your last {'operation' if name == 'undo' else 'undo'} on VIDEO "
                       "(cuts and review decisions; logged in the audit).")
    return click.command(name, context_settings=CONTEXT)(command)


@click.command(context_settings=CONTEXT)
@click.argument("video", type=ROW_ID, required=False)
@json_option
def validate(video: int | None, as_json: bool) -> None:
    """Check that the clips of VIDEO (default: every video) partition it exactly; exit 1 on a violation."""
    from heaters.services import videos as service

    async def work(_: Settings) -> dict[int, list[str]]:
        ids = [video] if video is not None else [v["id"] for v in await service.list_videos()]
        return {i: await service.mece_problems(i) for i in ids}

    report = run_db(work)
    if as_json:
        echo_json({str(k): {"valid": not v, "problems": v} for k, v in report.items()})
    else:
        for video_id, problems in report.items():
            click.echo(f"video {video_id}: " + ("MECE" if not problems else "INVALID: " + "; ".join(problems)))
    if any(report.values()):
        sys.exit(1)


@click.command(context_settings=CONTEXT)
@click.argument("video", type=ROW_ID, required=False)
@click.option("--user", help="Only operations by this user.")
@click.option("--kind", type=click.Choice(["add", "remove", "move", "trim", "approve", "skip", "reject", "reopen",
                                           "undo", "redo"]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="How many operations, newest first.")
@json_option
def audit(video: int | None, user: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    """Show the audit log of cut operations and review decisions."""
    from heaters.db.tables import SourceVideo
    from heaters.errors import NotFound
    from heaters.services import videos as service

    async def work(_: Settings) -> list[dict[str, Any]]:
        if video is not None and not await SourceVideo.exists().where(SourceVideo.id == video):
            raise NotFound(f"video {video} not found", "see `heaters videos`")
        return await service.audit_log(video, user=user, kind=kind, limit=limit)

    rows = run_db(work)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no operations recorded" + (f" on video {video}" if video is not None else ""), err=True)
    for r in rows:
        frames = f"{r['old_frame']}->{r['frame']}" if r["old_frame"] is not None else str(r["frame"] or "")
        undo = f" (undoes #{r['undoes']})" if r["undoes"] else ""
        click.echo(f"#{r['id']:<6} {r['created_at']:%Y-%m-%d %H:%M:%S}  video {r['source_video']:<4} "
                   f"{r['user']:<12} {r['kind']:<8} {frames:<12} -{r['removed_clip_ids']} +{r['created_clip_ids']}"
                   f"{undo}")


@click.group(context_settings=CONTEXT)
def user() -> None:
    """Manage reviewer and operator accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "operator"]), default="reviewer", show_default=True,
              help="Reviewers review; operators also ingest, retry and manage users.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def user_add(name: str, role: str, password_stdin: bool) -> None:
    """Create the account NAME (the password is asked for, never taken as an argument)."""
    from heaters.services import users

    password = _read_password(password_stdin)
    user_id = run_db(lambda _: users.add_user(name, password, role))
    click.echo(f"created {role} {name!r} (id {user_id})")


def _read_password(password_stdin: bool) -> str:
    if password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; the account's open sessions end."""
    from heaters.services import users

    password = _read_password(password_stdin)
    run_db(lambda _: users.set_password(name, password))
    click.echo(f"changed the password of {name!r}; its sessions have ended")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["reviewer", "operator"]))
def user_role(name: str, role: str) -> None:
    """Give NAME another role; the account's open sessions end."""
    from heaters.services import users

    run_db(lambda _: users.set_role(name, role))
    click.echo(f"{name!r} is now {role}; its sessions have ended")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Stop NAME from signing in and end its open sessions at once."""
    from heaters.services import users

    run_db(lambda _: users.set_active(name, False))
    click.echo(f"disabled {name!r}; its sessions have ended")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Let a disabled account NAME sign in again."""
    from heaters.services import users

    run_db(lambda _: users.set_active(name, True))
    click.echo(f"enabled {name!r}")


@user.command("list")
@json_option
def user_list(as_json: bool) -> None:
    """List accounts and their roles."""
    from heaters.services import users

    rows = run_db(lambda _: users.list_users())
    if as_json:
        echo_json(rows)
    else:
        table(rows, ["id", "username", "role", "active", "last_login"])


COMMANDS = [migrate, show_settings, videos, clips, cuts, review, _history_command("undo"),
            _history_command("redo"), validate, audit, user]
