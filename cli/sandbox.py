"""`fde sandbox up`: the local Stripe replica (and, later, the sample user system)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import context
from cli.output import say

if TYPE_CHECKING:
    from sandbox.replica.testing import ReplicaHandle

app = typer.Typer(help="The sandbox: a local Stripe replica for demo, tests and evals.",
                  no_args_is_help=True)


def replica_db(data_dir: Path) -> Path:
    return data_dir / "replica.sqlite3"


@contextmanager
def replica(*, port: int | None = None, seed: bool = True) -> Iterator[ReplicaHandle]:
    """The replica on its data-dir store, seeded with a small fixture when the store is new."""
    from sandbox.replica.seed import seed_small
    from sandbox.replica.testing import running_replica

    settings = context.settings()
    db_path = replica_db(settings.data_dir)
    fresh = not db_path.exists()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with running_replica(db_path, host=settings.replica_host,
                         port=settings.replica_port if port is None else port) as handle:
        if seed and fresh:
            seed_small(handle.client())
        yield handle


@app.command("up")
def up(
    port: Annotated[int | None, typer.Option(help="default: FDE_REPLICA_PORT")] = None,
    seed: Annotated[bool, typer.Option(help="seed a small fixture when the store is new")] = True,
) -> None:
    """Run the Stripe replica until interrupted. State persists in the data dir."""
    with replica(port=port, seed=seed) as handle:
        say(f"Stripe replica on {handle.url}  (state: {handle.config.db_path})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
