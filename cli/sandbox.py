"""`fde sandbox up|reset|bugs`: the local Stripe replica, alone or serving a generated world
(sandbox/world) together with the sample company's webhook handler app."""

from __future__ import annotations

import shutil
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
    from sandbox.replica.testing import serve_on

    settings = context.settings()
    db_path = replica_db(settings.data_dir)
    fresh = not db_path.exists()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with serve_on(db_path, host=settings.replica_host,
                         port=settings.replica_port if port is None else port) as handle:
        if seed and fresh:
            seed_small(handle.client())
        yield handle


def worlds_dir(data_dir: Path) -> Path:
    return data_dir / "worlds"


def _wait() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


@app.command("up")
def up(
    port: Annotated[int | None, typer.Option(help="default: FDE_REPLICA_PORT")] = None,
    # `--seed N` picks a generated world, so the fixture switch is `--no-seed` alone (a
    # `--seed/--no-seed` boolean listed --seed twice in --help and clashed with it).
    no_seed: Annotated[bool, typer.Option(
        "--no-seed", help="do not seed the small fixture into a new store")] = False,
    world_seed: Annotated[int | None, typer.Option(
        "--seed", help="serve a generated world built from this seed (0..2**31-1)")] = None,
    size: Annotated[str | None, typer.Option(help="world size: demo|medium|large")] = None,
    bugs: Annotated[str | None, typer.Option(
        help="bug switches of the world: FM-02,FM-13 | all | none")] = None,
    handler_port: Annotated[int | None, typer.Option(
        help="port of the company's webhook app (default: FDE_HANDLER_PORT)")] = None,
) -> None:
    """Run the Stripe replica until interrupted. With --seed/--size/--bugs it serves a
    generated world (built once, then cached) and the company's webhook app beside it."""
    from core.server_thread import ensure_free

    settings = context.settings()
    ensure_free(settings.replica_host, settings.replica_port if port is None else port,
                setting="--port/FDE_REPLICA_PORT")
    if world_seed is None and size is None and bugs is None:
        with replica(port=port, seed=not no_seed) as handle:
            say(f"Stripe replica on {handle.url}  (state: {handle.config.db_path})")
            _wait()
        return
    from sandbox.world.config import WorldConfig
    from sandbox.world.serve import running_world

    config = WorldConfig.parse(seed=world_seed or 0, size=size or "demo", bugs=bugs)
    port = settings.replica_port if port is None else port
    ensure_free(settings.replica_host, settings.handler_port if handler_port is None
                else handler_port, setting="--handler-port/FDE_HANDLER_PORT")
    with running_world(config, worlds_dir(settings.data_dir), host=settings.replica_host,
                       port=port, handler_port=settings.handler_port if handler_port is None
                       else handler_port, log=say) as served:
        say(f"world {served.info.key}: {sum(served.info.counts.values())} objects/events"
            f" (built in {served.info.seconds}s)")
        say(f"Stripe replica on {served.replica_url}")
        say(f"company webhook app on {served.handler_url}  (DB: {served.user_db})")
        say(f"bugs on: {', '.join(served.info.bugs) or 'none'}")
        _wait()


@app.command("reset")
def reset() -> None:
    """Delete every built world (the next `up --seed ...` builds afresh)."""
    target = worlds_dir(context.settings().data_dir)
    if target.exists():
        shutil.rmtree(target)
    say(f"removed {target}")


@app.command("bugs")
def bugs_list() -> None:
    """List the bug switches a world can turn on."""
    from sandbox.bugs import SWITCHES

    for switch in SWITCHES.values():
        say(f"{switch.id}  ({switch.layer}) {switch.slug}: {switch.title}")
