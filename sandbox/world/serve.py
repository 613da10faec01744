"""Serve a built world: the replica on a working copy of its store and the company's webhook
app on a working copy of its DB, the app registered as the account's webhook endpoint so new
events flow live over signed HTTP.

The built files under ``<worlds>/<key>/`` stay pristine (a cache: the same config is never
built twice); ``<worlds>/<key>/run/`` holds the copies that the servers change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.testing import running_replica
from sandbox.usersys.app import HandlerAppConfig
from sandbox.usersys.server import running_handler
from sandbox.world.build import CALLS, INFO, REPLICA_DB, USER_DB, WorldInfo, build_world, load_info
from sandbox.world.config import WorldConfig


@dataclass
class ServedWorld:
    info: WorldInfo
    replica_url: str
    handler_url: str
    user_db: Path
    calls: Path  # the company's Stripe calls as an OTLP trace export (read-only)


def built(config: WorldConfig, worlds: Path, *, log: Callable[[str], None] = print) -> Path:
    """The directory of the built world for `config` (built now unless cached)."""
    directory = worlds / config.key
    info = load_info(directory)
    if info is None or not (directory / INFO).exists():
        log(f"building world {config.key} ...")
        build_world(config, directory)
    return directory


@contextmanager
def running_world(config: WorldConfig, worlds: Path, *, host: str = "127.0.0.1",
                  port: int = 0, handler_port: int = 0,
                  log: Callable[[str], None] = print) -> Iterator[ServedWorld]:
    directory = built(config, worlds, log=log)
    info = load_info(directory)
    assert info is not None
    run = directory / "run"
    if run.exists():
        shutil.rmtree(run)
    run.mkdir()
    for name in (REPLICA_DB, USER_DB):
        shutil.copyfile(directory / name, run / name)
    handler_config = HandlerAppConfig(database_url=f"sqlite:///{run / USER_DB}",
                                      webhook_secrets=[info.endpoint_secret],
                                      bugs=frozenset(info.bugs))
    replica_config = ReplicaConfig(db_path=run / REPLICA_DB, id_seed=None)
    with running_handler(handler_config, host=host, port=handler_port) as handler, \
            running_replica(run / REPLICA_DB, host=host, port=port,
                            config=replica_config) as replica:
        replica.client().v1.webhook_endpoints.update(
            info.endpoint_id, params={"url": handler.webhook_url})
        yield ServedWorld(info=info, replica_url=replica.url, handler_url=handler.url,
                          user_db=run / USER_DB, calls=directory / CALLS)


__all__ = ["ServedWorld", "built", "running_world"]
