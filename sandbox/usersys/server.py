"""Serve the webhook app from a thread (`core.server_thread.ServerThread`) for tests, demos
and generators.

    with running_handler(HandlerAppConfig(database_url=..., webhook_secrets=[secret])) as h:
        replica_client.webhook_endpoints.create({"url": h.webhook_url, ...})
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from core.server_thread import ServerThread
from sandbox.usersys.app import Clock, HandlerAppConfig, create_handler_app


@dataclass
class HandlerHandle:
    url: str
    config: HandlerAppConfig

    @property
    def webhook_url(self) -> str:
        return self.url + "/webhooks/stripe"

    def state(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/state", timeout=10)
        response.raise_for_status()
        return response.json()


@contextmanager
def running_handler(
    config: HandlerAppConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    startup_timeout: float = 15.0,
) -> Iterator[HandlerHandle]:
    """Serve the app on a socket bound before start (no port race); stop it on exit."""
    server = ServerThread(create_handler_app(config, clock=clock), host=host, port=port)
    server.start(timeout=startup_timeout)
    try:
        yield HandlerHandle(url=server.url, config=config)
    finally:
        server.stop()


__all__ = ["HandlerHandle", "running_handler"]
