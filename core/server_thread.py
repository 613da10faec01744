"""Run an ASGI app under uvicorn in a background thread, on a real socket.

Used wherever a real HTTP server must run beside other work in one process: the demo
(replica + handler app + API), and the integration tests (httpx's ASGI transport buffers
whole responses, so streaming and disconnects need a real server).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from core.errors import ConfigError, PortInUse

__all__ = ["ServerThread", "bind_socket", "ensure_free", "serve_forever"]


def bind_socket(host: str, port: int, *, setting: str | None = None) -> socket.socket:
    """A listening-ready socket bound to `host:port`, or one clear error: a port already in
    use says so and how to free or change it (`setting` names the variable or option)."""
    change = f"set {setting} to a free port" if setting else "choose a free port"
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use",
                            hint=f"{change}, or stop the process on it (`ss -ltnp 'sport = "
                                 f":{port}'`)") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                          hint=f"use an address of this machine, or {change}") from None
    return sock


def ensure_free(host: str, port: int, *, setting: str | None = None) -> None:
    """Fail before slow start-up work when `port` is taken (port 0 is always free)."""
    if port:
        bind_socket(host, port, setting=setting).close()


def serve_forever(app: Any, host: str, port: int, *, setting: str | None = None) -> None:
    """uvicorn in the foreground on a socket bound first, so a taken port is one clear
    error instead of uvicorn's log and exit."""
    sock = bind_socket(host, port, setting=setting)
    try:
        uvicorn.Server(uvicorn.Config(app, log_config=None)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it shut down on; a clean stop (as uvicorn.run)
    finally:
        sock.close()


class ServerThread:
    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning", date_header: bool = True) -> None:
        self._sock = bind_socket(host, port)  # bind now so the port is known and held
        self.host, self.port = self._sock.getsockname()[:2]
        # date_header=False: the app sends its own `Date` (uvicorn would add a second one)
        config = uvicorn.Config(app, log_level=log_level, log_config=None, lifespan="on",
                                timeout_graceful_shutdown=2, date_header=date_header)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 15.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
