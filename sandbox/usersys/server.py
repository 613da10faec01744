"""Run the webhook app with uvicorn: `serve(...)` blocks (``fde sandbox up``);
`running_handler(...)` serves it from a thread for tests, demos and generators.

    with running_handler(HandlerAppConfig(database_url=..., webhook_secrets=[secret])) as h:
        replica_client.webhook_endpoints.create({"url": h.webhook_url, ...})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from sandbox.usersys.app import Clock, HandlerAppConfig, create_handler_app


def serve(
    config: HandlerAppConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 12112,
    clock: Clock | None = None,
    log_level: str = "info",
) -> None:
    """Serve until interrupted."""
    app = create_handler_app(config, clock=clock)
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="on")


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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(
        create_handler_app(config, clock=clock), log_level="warning", lifespan="on",
        access_log=False,
    ))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="usersys-handler")
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"handler app did not start at {url}")
            time.sleep(0.02)
        yield HandlerHandle(url=url, config=config)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


__all__ = ["HandlerHandle", "running_handler", "serve"]
