"""Scale-out on PostgreSQL: two `fde serve` processes share one run queue. 50 runs are each
executed exactly once (their side effect counted), by both processes; a process killed
with SIGKILL mid-run loses its lease and the other process finishes that run, continuing
from its checkpoint (the side effect still happens once)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.settings import load_settings
from tests.api.api_helpers import token
from tests.api.probe_graph import SPEC
from tests.conftest import REPO, free_port


def _serve(env: dict[str, str], port: int, log: Path, workers: int = 2) -> subprocess.Popen:
    fde = Path(sys.executable).with_name("fde")
    return subprocess.Popen([str(fde), "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"fde serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"fde serve on {url} did not come up: {log.read_text()[-3000:]}")


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _metadata(url: str, auth: dict, tid: str, rid: str) -> list[dict]:
    with httpx.stream("GET", f"{url}/threads/{tid}/runs/{rid}/stream", headers=auth,
                      timeout=60) as response:
        from tests.api.sse import events

        return [data for _, kind, data in events(response)
                if kind == "metadata" and "attempt" in data]


def _wait_all(url: str, auth: dict, runs: list[tuple[str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(runs)
    while pending and time.monotonic() < deadline:
        pending = [(t, r) for t, r in pending if httpx.get(
            f"{url}/threads/{t}/runs/{r}", headers=auth, timeout=10).json()["status"]
            not in ("success", "error", "interrupted")]
        time.sleep(0.2)
    assert not pending, f"{len(pending)} runs never finished"


@pytest.mark.postgres
@pytest.mark.slow
def test_two_serve_processes_share_the_queue_and_recover_a_killed_worker(pg_url, tmp_path):
    from agents.checkpoint import open_checkpointer
    from core.storage import open_database

    data = tmp_path / "data"
    settings = load_settings(database_url=pg_url, data_dir=data)
    db = open_database(settings)  # migrate once, before two processes race to
    with open_checkpointer(settings):
        pass  # the same for the checkpoint tables
    auth = {"Authorization": f"Bearer {token(db, 'engineer', 'ops')}"}
    env = {**os.environ, "FDE_DATABASE_URL": pg_url, "FDE_DATA_DIR": str(data),
           "FDE_API_GRAPHS": SPEC, "FDE_API_RUN_LEASE_SECONDS": "2",
           "FDE_API_POLL_SECONDS": "0.1", "FDE_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(REPO)}
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    logs = [tmp_path / f"serve{i}.log" for i in range(2)]
    procs = [_serve(env, p, log) for p, log in zip(ports, logs, strict=True)]
    out = tmp_path / "effects"
    try:
        for url, proc, log in zip(urls, procs, logs, strict=True):
            _up(url, proc, log)
        runs = []
        for i in range(50):
            url = urls[i % 2]
            tid = httpx.post(f"{url}/threads", json={}, headers=auth).json()["thread_id"]
            run = httpx.post(f"{url}/threads/{tid}/runs", headers=auth, json={
                "assistant_id": "probe",
                "input": {"ticks": 2, "delay": 0.02, "out": str(out)}}).json()
            runs.append((tid, run["run_id"]))
        _wait_all(urls[0], auth, runs, timeout=180)
        effects = collections.Counter(out.read_text().splitlines())
        assert sorted(effects) == sorted(t for t, _ in runs)
        assert set(effects.values()) == {1}  # each of the 50 executed exactly once
        workers = collections.Counter()
        for tid, rid in runs:
            meta = _metadata(urls[1], auth, tid, rid)
            assert [m["attempt"] for m in meta] == [1]
            workers[meta[0]["worker"].split(":")[1]] += 1
        assert set(workers) == {str(p.pid) for p in procs}, workers  # both took work

        # one long run; kill -9 the process running it
        tid = httpx.post(f"{urls[0]}/threads", json={}, headers=auth).json()["thread_id"]
        rid = httpx.post(f"{urls[0]}/threads/{tid}/runs", headers=auth, json={
            "assistant_id": "probe",
            "input": {"ticks": 40, "delay": 0.1, "out": str(out)}}).json()["run_id"]
        deadline = time.monotonic() + 60
        owner = None
        while owner is None and time.monotonic() < deadline:
            meta = _metadata_now(urls[0], auth, tid, rid)
            owner = meta[0]["worker"].split(":")[1] if meta else None
            time.sleep(0.05)
        assert owner is not None, "the long run never started"
        victim = next(p for p in procs if str(p.pid) == owner)
        survivor = urls[1 - procs.index(victim)]
        time.sleep(0.5)  # inside its slow node now
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        _wait_all(survivor, auth, [(tid, rid)], timeout=90)
        run = httpx.get(f"{survivor}/threads/{tid}/runs/{rid}", headers=auth).json()
        assert run["status"] == "success"
        meta = _metadata(survivor, auth, tid, rid)
        assert [m["attempt"] for m in meta] == [1, 2]
        assert meta[1]["worker"].split(":")[1] != owner  # finished by the other process
        assert collections.Counter(out.read_text().splitlines())[tid] == 1
        state = httpx.get(f"{survivor}/threads/{tid}/state", headers=auth).json()
        assert state["values"]["seen"] == ["start", "slow", "effect"]
    finally:
        _stop(procs)
        db.dispose()


def _metadata_now(url: str, auth: dict, tid: str, rid: str) -> list[dict]:
    """The metadata events written so far (without waiting for the run to end)."""
    with httpx.stream("GET", f"{url}/threads/{tid}/runs/{rid}/stream", headers=auth,
                      timeout=10) as response:
        from tests.api.sse import events

        for _, kind, data in events(response):
            if kind == "metadata" and "attempt" in data:
                return [data]
            if kind != "metadata":
                return []
    return []


@pytest.mark.postgres
def test_notify_wakes_workers_and_streams_of_other_processes(pg_url, tmp_path):
    """With polling all but off (60 s), a run queued through a process without workers is
    taken at once by the other process, and the first process streams it to the end:
    LISTEN/NOTIFY carries both wake-ups."""
    from agents.checkpoint import open_checkpointer
    from core.storage import open_database
    from tests.api.sse import events

    data = tmp_path / "data"
    settings = load_settings(database_url=pg_url, data_dir=data)
    db = open_database(settings)
    with open_checkpointer(settings):
        pass
    auth = {"Authorization": f"Bearer {token(db, 'engineer', 'ops')}"}
    env = {**os.environ, "FDE_DATABASE_URL": pg_url, "FDE_DATA_DIR": str(data),
           "FDE_API_GRAPHS": SPEC, "FDE_API_POLL_SECONDS": "60", "FDE_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(REPO)}
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    logs = [tmp_path / f"serve{i}.log" for i in range(2)]
    procs = [_serve(env, ports[0], logs[0], workers=2), _serve(env, ports[1], logs[1], workers=0)]
    try:
        for url, proc, log in zip(urls, procs, logs, strict=True):
            _up(url, proc, log)
        time.sleep(1.0)  # the workers' first look at the empty queue is over: they wait now
        front = urls[1]
        tid = httpx.post(f"{front}/threads", json={}, headers=auth).json()["thread_id"]
        started = time.monotonic()
        # well under the poll interval: only a notification can end either wait in time
        with httpx.stream("POST", f"{front}/threads/{tid}/runs/stream", headers=auth, json={
                "assistant_id": "probe", "input": {"ticks": 2, "delay": 0.02,
                                                   "out": str(tmp_path / "effects")},
                "stream_mode": ["values"]}, timeout=30) as response:
            kinds = [kind for _, kind, _ in events(response)]
        assert kinds[-1] == "end" and "values" in kinds, kinds
        assert time.monotonic() - started < 30
        meta = _metadata(front, auth, tid, httpx.get(
            f"{front}/threads/{tid}/runs", headers=auth).json()[0]["run_id"])
        assert meta[0]["worker"].split(":")[1] == str(procs[0].pid)
    finally:
        _stop(procs)
        db.dispose()
