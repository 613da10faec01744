"""`create_app(config)`: the replica as an ASGI (Starlette) app. Importing does nothing.

The store opens in the lifespan (the thread that serves requests); a background tick runs
due work as the clock passes it and prunes idempotency records older than 24 h.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from sandbox.replica import admin, pipeline
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.engine import Engine
from sandbox.replica.registry import Registry
from sandbox.replica.resources import register_all

log = logging.getLogger(__name__)
_ALL = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def build_registry() -> Registry:
    reg = Registry()
    register_all(reg)
    return reg


async def _tick(engine: Engine) -> None:
    beats = 0
    while True:
        await asyncio.sleep(engine.config.tick_seconds)
        try:
            engine.run_due()
            beats += 1
            if beats % 240 == 0:
                engine.prune()
        except Exception:  # keep ticking; the failure is logged
            log.exception("replica tick failed")


def create_app(config: ReplicaConfig, *, registry: Registry | None = None) -> Starlette:
    engine = Engine(config, registry or build_registry())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine.open()
        await engine.dispatcher.start()
        ticker = asyncio.create_task(_tick(engine))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await engine.dispatcher.close()
            engine.save_clock()
            engine.close()

    routes = admin.routes(engine)
    for route in engine.registry.routes:
        routes.append(Route(route.path, pipeline.endpoint(engine, route), methods=[route.method]))
    routes.append(Route("/v1/{rest:path}", pipeline.endpoint(engine, None), methods=_ALL))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.engine = engine
    return app
