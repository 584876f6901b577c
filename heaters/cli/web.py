"""The review web app command: ``heaters serve``."""

from __future__ import annotations

import click

from heaters.cli.common import CONTEXT


@click.command(context_settings=CONTEXT)
@click.option("--host", default=None, help="Address to listen on [default: HEATERS_HOST or 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: HEATERS_PORT or 8000].")
@click.option("--proxy-headers/--no-proxy-headers", default=False, show_default=True,
              help="Trust X-Forwarded-Proto/For from the proxy in front (marks cookies Secure behind https).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host: str | None, port: int | None, proxy_headers: bool, log_level: str) -> None:
    """Run the review web app (pages, JSON API at /api, OpenAPI at /schema).

    Run `heaters migrate` first and create an account with `heaters user add NAME`.
    """
    import uvicorn

    from heaters.cli.common import fail, load_settings, require_data
    from heaters.errors import HeatersError
    from heaters.server.app import create_app

    settings = load_settings()
    require_data(settings)
    try:
        app = create_app(settings)
    except HeatersError as exc:
        fail(exc)
    bind_host = host or settings.host
    bind_port = port or settings.port
    click.echo(f"heaters: serving on http://{bind_host}:{bind_port}/  (Ctrl+C stops)")
    # Open event streams never end by themselves: give them a moment to close, then stop anyway.
    uvicorn.run(app, host=bind_host, port=bind_port, log_level=log_level, proxy_headers=proxy_headers,
                timeout_graceful_shutdown=3, server_header=False)


COMMANDS: list[click.Command] = [serve]
