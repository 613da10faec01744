"""Fixtures for the knowledge room: one embedder per test session, a caching wrapper so
each backend (embedded Chroma, Chroma server) embeds the library only once, and a socket
guard proving nothing is downloaded at run time."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from knowledge.config import DEFAULT_PATTERNS_DIR, KnowledgeSettings, load_knowledge_settings
from knowledge.embedder import MiniLMEmbedder
from knowledge.index import KnowledgeIndex, open_index
from knowledge.patterns import Pattern, load_patterns
from tests.conftest import free_port


class NetworkBlocked(AssertionError):
    pass


@contextlib.contextmanager
def socket_guard(allow_local: bool = False) -> Iterator[list[str]]:
    """Fail every outbound connection and DNS lookup (loopback optionally allowed)."""
    attempts: list[str] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo
    real_connect_ex = socket.socket.connect_ex

    def _local(address: object) -> bool:
        host = address[0] if isinstance(address, tuple) else address
        return allow_local and str(host) in ("127.0.0.1", "localhost", "::1")

    def connect(self: socket.socket, address: object) -> None:
        if self.family == socket.AF_UNIX or _local(address):
            return real_connect(self, address)
        attempts.append(f"connect {address!r}")
        raise NetworkBlocked(f"network access blocked in tests: connect {address!r}")

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family == socket.AF_UNIX or _local(address):
            return real_connect_ex(self, address)
        attempts.append(f"connect_ex {address!r}")
        raise NetworkBlocked(f"network access blocked in tests: connect {address!r}")

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if _local((host,)):
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
        attempts.append(f"getaddrinfo {host!r}")
        raise NetworkBlocked(f"network access blocked in tests: resolve {host!r}")

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


class CachingEmbedder:
    """Same vectors as the wrapped embedder; remembers them by text so a second backend
    (or a re-index) in the same session costs nothing."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self.cache: dict[str, np.ndarray] = {}
        self.calls = 0
        self.requests: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.requests.append(list(texts))
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.calls += 1
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self.cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.vstack([self.cache[t] for t in texts])


@pytest.fixture(scope="session")
def patterns() -> list[Pattern]:
    return load_patterns(DEFAULT_PATTERNS_DIR)


@pytest.fixture(scope="session")
def offline_build(tmp_path_factory: pytest.TempPathFactory,
                  patterns: list[Pattern]) -> dict[str, object]:
    """Load the model and index the whole library into a fresh directory with the network
    blocked: the acceptance test for "nothing is downloaded at run time"."""
    data_dir = tmp_path_factory.mktemp("knowledge-offline")
    with socket_guard() as attempts:
        embedder = CachingEmbedder(MiniLMEmbedder())
        settings = load_knowledge_settings(data_dir=data_dir, chroma_url=None)
        index = open_index(settings, embedder=embedder)
        report = index.update(patterns)
        hits = index.search("webhook signature fails after json middleware", k=5)
    return {"embedder": embedder, "index": index, "report": report, "hits": hits,
            "attempts": attempts, "data_dir": data_dir}


@pytest.fixture(scope="session")
def embedder(offline_build: dict[str, object]) -> CachingEmbedder:
    return offline_build["embedder"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free port, stopped at the end of the session."""
    binary = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(binary).exists():
        pytest.fail("the `chroma` CLI (from the chromadb package) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    proc = subprocess.Popen([binary, "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}: "
                        f"{(path / 'server.log').read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session",
                params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            offline_build: dict[str, object], patterns: list[Pattern],
            embedder: CachingEmbedder) -> tuple[KnowledgeSettings, KnowledgeIndex]:
    """The same index behind both storage backends: embedded PersistentClient (built
    offline above) and a Chroma server started for the session."""
    if request.param == "embedded":
        settings = load_knowledge_settings(data_dir=offline_build["data_dir"], chroma_url=None)
        return settings, offline_build["index"]  # type: ignore[return-value]
    url = request.getfixturevalue("chroma_server")
    settings = load_knowledge_settings(data_dir=tmp_path_factory.mktemp("kn-server"),
                                       chroma_url=url)
    with socket_guard(allow_local=True):
        index = open_index(settings, embedder=embedder)
        index.update(patterns)
    return settings, index
