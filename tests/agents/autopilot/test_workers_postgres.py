"""PostgreSQL, two worker processes: every scheduled job runs exactly once per tick; a worker
killed in the middle of a repair (inside the company-DB transaction, before COMMIT) leaves
the row untouched, and its job is taken again by another worker when the lease runs out and
completes the repair exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agents.autopilot import Autopilot, AutopilotDeps
from agents.autopilot.cases import list_cases
from agents.autopilot.tables import attempts, jobs
from core import audit
from core.settings import load_settings
from core.storage import open_database
from tests.agents.autopilot.helpers import MAPPING, add_engagement, serve_world
from tests.conftest import REPO
from tools.checks.engagement import snapshot_for
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.run import run_recon

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FULL = ("schedule: {sync: 60, map_refresh: null, checks: 60, reconcile: 60, jitter: 0, "
        "shadow: false}\ntriage: false\nauto_repair: [{class: STALE_STATE, entities: "
        "[invoice]}]\n")
LIGHT = "schedule: {sync: null, map_refresh: 60, checks: 60, reconcile: null, jitter: 0}\n"


def _wait(predicate, what: str, timeout: float = 180.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _stale_invoices(settings, user_url: str) -> set[str]:  # noqa: ANN001
    mapping = load_mapping(MAPPING)
    user = open_user_system(user_url, mapping)
    try:
        run = run_recon(snapshot=snapshot_for(settings, "repairable"), user=user,
                        mapping=mapping)
    finally:
        user.engine.dispose()
    return {d.stripe_id for d in run.discrepancies
            if d.class_.value == "STALE_STATE" and d.entity == "invoice"}


def test_two_workers_exactly_once_and_killed_repair_retried(tmp_path: Path, pg_url: str):
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, database_url=pg_url)
    db = open_database(settings)
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []

    def spawn(name: str, marker: Path | None = None) -> subprocess.Popen:
        args = [sys.executable, "-m", "tests.agents.autopilot.worker_proc", pg_url, str(data),
                name] + ([str(marker)] if marker else [])
        out = (logs / f"{name}.log").open("w")
        proc = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        procs.append(proc)
        return proc

    with ExitStack() as stack:
        world = serve_world(stack, tmp_path, "repairable", "FM-16")
        add_engagement(settings, db, "repairable", api_base=world.replica.url,
                       user_url=world.user_url, policy=FULL, connected=world.connected())
        for i in range(3):
            add_engagement(settings, db, f"light-{i}", api_base=world.replica.url,
                           policy=LIGHT)
        pilot = Autopilot(AutopilotDeps(settings=settings, db=db))
        base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
        try:
            marker = tmp_path / "stalled"
            stalling = spawn("worker-a", marker)
            assert pilot.enqueue_due(base) == 3 + 3 * 2
            _wait(marker.exists, "worker-a to stall inside the repair")
            stalling.send_signal(signal.SIGKILL)
            stalling.wait(timeout=30)
            # killed before COMMIT: the row is as stale as before (nothing half-applied)
            stale = _stale_invoices(settings, world.user_url)
            assert len(stale) == 1, stale
            spawn("worker-b")
            spawn("worker-c")
            for tick in (1, 2):  # two more ticks, both workers up
                assert pilot.enqueue_due(base + timedelta(seconds=60 * tick)) == 9

            def settled() -> bool:
                with db.session() as session:
                    states = {r for (r,) in session.execute(select(jobs.c.status))}
                return states <= {"done", "skipped"}

            _wait(settled, "every job to finish")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()

        with db.session() as session:
            rows = session.execute(select(jobs)).all()
            tries = session.execute(select(attempts)).all()
            repairs = [e for e in audit.entries(session, limit=1000)
                       if e.action == "recon.repair.applied"]
            cases = list_cases(session, engagement="repairable")
        assert _stale_invoices(settings, world.user_url) == set()

    keys = [(r.engagement, r.kind, r.tick) for r in rows]
    assert len(keys) == len(set(keys)) == 27  # 3 ticks x (3 + 3 x 2) jobs
    finished = [t for t in tries if t.outcome in ("done", "skipped")]
    assert sorted(t.job_id for t in finished) == sorted(r.id for r in rows)  # once each
    killed = [t for t in tries if t.outcome is None]
    assert len(killed) == 1 and killed[0].worker == "worker-a"
    retried = next(r for r in rows if r.id == killed[0].job_id)
    assert (retried.engagement, retried.kind, retried.attempts) == ("repairable", "reconcile", 2)
    assert {t.worker for t in finished} >= {"worker-b", "worker-c"}
    assert len(repairs) == 1 and repairs[0].target in stale
    case = next(c for c in cases if c.object_id in stale)
    assert case.status == "resolved" and case.resolution["how"] in (
        "repaired automatically", "no longer reported")
