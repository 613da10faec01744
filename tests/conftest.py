"""Shared fixtures. Every test gets its own data dir and database (no test touches ./.fde)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "fde-data"
    data.mkdir()
    monkeypatch.setenv("FDE_DATA_DIR", str(data))
    for var in ("FDE_DATABASE_URL", "FDE_STRIPE_API_BASE", "FDE_STRIPE_API_KEY", "FDE_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    # A stray .env in the working copy must not leak into tests.
    monkeypatch.chdir(tmp_path)
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"fde_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory):
    """Base URL of localstripe (an independent Stripe emulator; GPL, test-only) on a free port.

    Started once per session with ``--from-scratch`` (it still pickles its store to
    /tmp/localstripe.pickle on every write, but never reads it back). Any ``sk_`` key is
    accepted; ``rk_`` keys get 401.
    """
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    exe = Path(sys.executable).with_name("localstripe")
    if not exe.exists():
        pytest.fail("localstripe is not installed: `make test` installs the .[test] extra")
    port = free_port()
    workdir = tmp_path_factory.mktemp("localstripe")
    log = (workdir / "localstripe.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "--port", str(port), "--from-scratch"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    probe = urllib.request.Request(
        f"{base}/v1/customers?limit=1", headers={"Authorization": "Bearer sk_test_probe0000"}
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"localstripe exited with {proc.returncode}: "
                    + (workdir / "localstripe.log").read_text(errors="replace")[-2000:]
                )
            try:
                with urllib.request.urlopen(probe, timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"localstripe did not answer on {base} within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# -- sandbox Stripe replica (sandbox/replica) ---------------------------------------------
@pytest.fixture
def replica_config(tmp_path: Path):
    """Replica settings for tests: webhook retries compressed to milliseconds."""
    from sandbox.replica.config import ReplicaConfig

    return ReplicaConfig(
        db_path=tmp_path / "replica.sqlite",
        webhook_retry_schedule=[0.05, 0.1, 0.2],
        webhook_timeout=2.0,
        tick_seconds=0.05,
    )


@pytest.fixture
def replica(tmp_path: Path, replica_config):
    """A running replica (real uvicorn on a free port) with a fresh database in tmp_path."""
    from sandbox.replica.testing import running_replica

    with running_replica(replica_config.db_path, config=replica_config) as handle:
        yield handle


@pytest.fixture
def stripe_client(replica):
    """The official SDK pointed at the replica (no SDK retries, so tests see every answer)."""
    return replica.client()


# -- the pattern library, indexed (`fde knowledge index`) ----------------------------------
def _library_key() -> str:
    """Changes whenever a rebuilt index could differ: the library, the chunker, Chroma."""
    import hashlib
    from importlib.metadata import version

    from knowledge.chunking import CHUNKER_VERSION
    from knowledge.config import DEFAULT_PATTERNS_DIR

    digest = hashlib.sha256(f"{CHUNKER_VERSION}:{version('chromadb')}".encode())
    for path in sorted(DEFAULT_PATTERNS_DIR.rglob("*.md")):
        digest.update(path.relative_to(DEFAULT_PATTERNS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def pattern_index(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chroma directory holding the packaged pattern library, indexed by the real
    `fde knowledge index` (a subprocess, as a user runs it).

    Indexing costs a minute of embedding on a busy machine, so the build is kept in pytest's
    cache keyed by the library's content (`_library_key`): the first session, or the first
    after a pattern changes, builds it once under a file lock shared by the xdist workers;
    every worker then gets its own copy (an embedded Chroma belongs to one process)."""
    import shutil
    import subprocess
    import sys

    from filelock import FileLock

    cache = Path(request.config.cache.mkdir("pattern-index"))
    built = cache / _library_key()
    with FileLock(str(cache / "build.lock")):
        if not (built / ".done").exists():
            shutil.rmtree(built, ignore_errors=True)
            built.mkdir(parents=True)
            out = subprocess.run(
                [str(Path(sys.executable).with_name("fde")), "knowledge", "index"],
                env={**{k: v for k, v in os.environ.items()
                        if k not in ("FDE_CHROMA_URL", "FDE_CHROMA_PATH", "FDE_PATTERNS_DIR")},
                     "FDE_DATA_DIR": str(built), "ANONYMIZED_TELEMETRY": "False"},
                cwd=built, capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                pytest.fail(f"fde knowledge index failed: {out.stderr[-2000:]}")
            (built / ".done").touch()
    copy = tmp_path_factory.mktemp("pattern-index") / "chroma"
    shutil.copytree(built / "chroma", copy)
    return copy


def open_pattern_index(path: Path, embedder: object = None) -> object:
    """The index in `path` (see `pattern_index`), searched with `embedder` when given."""
    from knowledge.config import load_knowledge_settings
    from knowledge.index import open_index

    return open_index(load_knowledge_settings(chroma_path=path, chroma_url=None),
                      embedder=embedder)  # type: ignore[arg-type]
