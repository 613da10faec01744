"""`fde serve`: the API server and its run workers.

Several `fde serve` processes on one PostgreSQL database share the run queue (SKIP LOCKED
claims with leases): a run whose process dies is picked up by another once its lease
(FDE_API_RUN_LEASE_SECONDS) expires."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.main import create_app
from cli import context
from cli.output import say


def serve(
    host: Annotated[str | None, typer.Option(help="default: FDE_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: FDE_API_PORT")] = None,
    workers: Annotated[int | None, typer.Option(
        min=0, help="run workers in this process (default: FDE_API_WORKERS; 0: API only)")
    ] = None,
) -> None:
    """Run the API server (uvicorn) and its run workers until interrupted."""
    settings = context.settings()
    settings = settings.model_copy(
        update={"api_host": host or settings.api_host, "api_port": port or settings.api_port}
    )
    count = settings.api_workers if workers is None else workers
    app = create_app(settings, database=context.database(), workers=count)
    say(f"fde-ops API on {settings.api_url}  (health: {settings.api_url}/healthz, "
        f"{count} run workers)")
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
