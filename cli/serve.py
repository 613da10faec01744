"""`fde serve`: the API server, its run workers and (with `--autopilot`) the autopilot.

Several `fde serve` processes on one PostgreSQL database share the run queue (SKIP LOCKED
claims with leases): a run whose process dies is picked up by another once its lease
(FDE_API_RUN_LEASE_SECONDS) expires."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import context
from cli.output import say


def serve(
    host: Annotated[str | None, typer.Option(help="default: FDE_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: FDE_API_PORT")] = None,
    workers: Annotated[int | None, typer.Option(
        min=0, help="run workers in this process (default: FDE_API_WORKERS; 0: API only)")
    ] = None,
    autopilot: Annotated[bool | None, typer.Option(
        "--autopilot/--no-autopilot", help="also run the autopilot scheduler in this process "
        "(default: FDE_AUTOPILOT)")] = None,
) -> None:
    """Run the API server (uvicorn) and its run workers until interrupted."""
    from core.server_thread import ensure_free, serve_forever

    settings = context.settings()
    settings = settings.model_copy(
        update={"api_host": host or settings.api_host, "api_port": port or settings.api_port}
    )
    taken = "--port/FDE_API_PORT"
    ensure_free(settings.api_host, settings.api_port, setting=taken)  # before anything starts
    # the server stack loads only for this command: `fde --help` stays quick
    from api.autopilot_runner import AutopilotRunner
    from api.main import create_app

    count = settings.api_workers if workers is None else workers
    database = context.database()
    app = create_app(settings, database=database, workers=count)
    runner = None
    if settings.autopilot if autopilot is None else autopilot:
        runner = app.state.autopilot = AutopilotRunner(settings, database).start()
    say(f"fde-ops API on {settings.api_url}  (health: {settings.api_url}/healthz, "
        f"{count} run workers, autopilot {'on' if runner else 'off'})")
    try:
        serve_forever(app, settings.api_host, settings.api_port, setting=taken)
    finally:
        if runner is not None:
            say("stopping the autopilot (the tick in flight finishes first)")
            stopped = runner.stop()
            say("autopilot stopped" if stopped else "[yellow]the autopilot tick is still "
                "running; its jobs' leases expire and another process retries them[/]")
