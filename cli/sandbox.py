"""`fde sandbox up`: the local Stripe replica (and, later, the sample user system)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import say

app = typer.Typer(help="The sandbox: a local Stripe replica for demo, tests and evals.",
                  no_args_is_help=True)


def replica_db(data_dir: Path) -> Path:
    return data_dir / "replica.sqlite3"


def start_replica(*, port: int | None = None, seed: bool = True):  # type: ignore[no-untyped-def]
    """Start the replica in a background thread; seed it when its store is empty."""
    import stripe
    from sandbox.replica.app import create_app
    from sandbox.replica.seed import seed_small

    from core.server_thread import ServerThread
    from core.settings import SANDBOX_API_KEY
    from sandbox.replica.config import ReplicaConfig

    settings = context.settings()
    db_path = replica_db(settings.data_dir)
    fresh = not db_path.exists()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    server = ServerThread(create_app(ReplicaConfig(db_path=db_path)),
                          host=settings.replica_host,
                          port=settings.replica_port if port is None else port).start()
    if seed and fresh:
        client = stripe.StripeClient(SANDBOX_API_KEY, base_addresses={"api": server.url})
        seed_small(client)
    return server


@app.command("up")
def up(
    port: Annotated[int | None, typer.Option(help="default: FDE_REPLICA_PORT")] = None,
    seed: Annotated[bool, typer.Option(help="seed a small fixture when the store is new")] = True,
) -> None:
    """Run the Stripe replica until interrupted. State persists in the data dir."""
    import time

    server = start_replica(port=port, seed=seed)
    say(f"Stripe replica on {server.url}  (state: {replica_db(context.settings().data_dir)})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
