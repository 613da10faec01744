"""`fde serve`: the API server."""

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
) -> None:
    """Run the API server (uvicorn) until interrupted."""
    settings = context.settings()
    settings = settings.model_copy(
        update={"api_host": host or settings.api_host, "api_port": port or settings.api_port}
    )
    app = create_app(settings, database=context.database())
    say(f"fde-ops API on {settings.api_url}  (health: {settings.api_url}/healthz)")
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
