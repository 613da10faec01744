"""Shared fixtures. Every test gets its own data dir and database (no test touches ./.fde)."""

from __future__ import annotations

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
