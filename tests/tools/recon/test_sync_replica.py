"""Sync against the sandbox replica over HTTP: faults, call budget, resume, incremental
events, and the retention-gap warning."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from tools.recon.sync import Snapshot, run_sync
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

TYPES = ["customer", "product", "price"]


def _gateway(replica) -> StripeGateway:
    return StripeGateway(
        GatewayConfig(api_base=replica.url, api_key=SecretStr(replica.api_key + "0" * 12),
                      expected_mode="test", rate_limit=1000.0, max_retries=6,
                      max_rate_limit_retries=20),
        limiters=RateLimiterRegistry(), sleep=lambda s: None)


def _seed(replica, n_customers: int, n_products: int, n_prices: int) -> set[str]:
    now = replica.admin.now()
    objs = [{"id": f"cus_S{i:06d}", "object": "customer", "created": now - 50_000 + i,
             "livemode": False, "email": f"u{i}@x.io"} for i in range(n_customers)]
    objs += [{"id": f"prod_S{i:06d}", "object": "product", "created": now - 40_000 + i,
              "livemode": False, "name": f"p{i}", "active": True} for i in range(n_products)]
    objs += [{"id": f"price_S{i:06d}", "object": "price", "created": now - 30_000 + i,
              "livemode": False, "currency": "usd", "unit_amount": 100, "active": True}
             for i in range(n_prices)]
    replica.admin.bulk_insert(objs)
    return {o["id"] for o in objs}


def _synced_ids(snap: Snapshot) -> list[str]:
    ids: list[str] = []
    for t in TYPES:
        ids += snap.frame(t)["id"].to_list()
    return ids


@pytest.mark.slow
def test_sync_with_20pct_faults_loses_and_duplicates_nothing_within_call_budget(
        replica, tmp_path: Path, record_property):
    seeded = _seed(replica, 6000, 2000, 2000)
    replica.admin.add_fault(path="/v1/*", kind="rate_limit", rate=0.1, retry_after=0)
    replica.admin.add_fault(path="/v1/*", kind="server_error", rate=0.1)
    replica.admin.clear_requests()
    snap = Snapshot(tmp_path / "snap")
    report = run_sync(_gateway(replica), snap, types=TYPES)
    assert report.complete and report.mode == "full"
    ids = _synced_ids(snap)
    assert len(ids) == len(set(ids)) == len(seeded) and set(ids) == seeded
    totals = replica.admin.request_totals()
    ok = totals["by_status"].get("200", 0)
    faulted = sum(totals["faults"].values())
    assert faulted > 0.1 * totals["total"]  # the faults really fired
    per_object_ok, per_object_all = ok / len(ids), totals["total"] / len(ids)
    print(f"synced {len(ids)} objects: {ok} successful calls ({per_object_ok:.4f}/object), "
          f"{totals['total']} attempts incl. {faulted} injected faults "
          f"({per_object_all:.4f}/object)")
    # both figures go to the JUnit report too (pytest --junitxml), so a note can quote them
    record_property("successful_calls_per_object", round(per_object_ok, 5))
    record_property("attempts_per_object_incl_faults", round(per_object_all, 5))
    # The budget "≤ 0.011 API calls per synced object" is met by successful calls only.
    # Arithmetic: limit=100 gives 1 successful call per 100 objects (0.010), plus one final
    # empty-or-short page per type and the cursor/account probes (~0.0005 here). With 20% of
    # attempts failing (10% 429 + 10% 500), each page needs 1/(1-0.2) = 1.25 attempts on
    # average, so counting failed attempts the floor is 0.0125/object: > 0.011 by
    # construction, whatever the client does. We assert what is achievable honestly:
    # successful calls ≤ 0.011/object, all attempts ≤ 1.25 × that plus slack, and nothing
    # lost or duplicated (above).
    assert per_object_ok <= 0.011, totals
    assert per_object_all <= 0.011 * 1.25 * 1.15, totals


def test_interrupted_sync_resumes_without_duplicates(replica, tmp_path: Path):
    seeded = _seed(replica, 2500, 0, 0)
    snap = Snapshot(tmp_path / "snap")
    stop = threading.Event()

    class StopAfterFirstFlush:
        def start(self, name: str) -> None: ...
        def finish(self, name: str) -> None: ...

        def advance(self, name: str, n: int) -> None:
            stop.set()

    first = run_sync(_gateway(replica), snap, types=["customer"], stop=stop,
                     progress=StopAfterFirstFlush())
    assert first.interrupted and not first.complete
    partial = snap.frame("customer").height
    assert 0 < partial < len(seeded)
    second = run_sync(_gateway(replica), snap, types=["customer"])
    assert second.complete
    ids = snap.frame("customer")["id"].to_list()
    assert len(ids) == len(set(ids)) == len(seeded)


def test_incremental_events_then_retention_gap_forces_full_resync(replica, tmp_path: Path):
    client = replica.client()
    cus = client.v1.customers.create(params={"email": "old@x.io"})
    snap = Snapshot(tmp_path / "snap")
    gw = _gateway(replica)
    assert run_sync(gw, snap, types=["customer", "event"]).complete
    client.v1.customers.update(cus.id, params={"email": "new@x.io"})
    client.v1.customers.create(params={"email": "second@x.io"})
    report = run_sync(gw, snap, types=["customer", "event"])
    assert report.mode == "incremental" and report.events_applied >= 2
    frame = snap.frame("customer")
    assert frame.height == 2
    row = frame.filter(frame["id"] == cus.id)["data"][0]
    assert "new@x.io" in row
    # an older page can never overwrite newer event data
    snap.append("customer", [{"id": cus.id, "object": "customer", "email": "stale@x.io"}],
                version=0, source=0)
    assert "new@x.io" in snap.frame("customer").filter(
        snap.frame("customer")["id"] == cus.id)["data"][0]
    # a cursor older than Stripe's 30-day retention: warning + full re-sync
    with snap.editing() as cp:
        cp.events.created = (cp.events.created or 0) - 31 * 86400
    report = run_sync(gw, snap, types=["customer", "event"])
    assert report.warnings and "retention" in report.warnings[0]
    assert report.mode == "full" and report.complete


_CHILD = """
import signal, sys, threading
from pydantic import SecretStr
from tools.recon.sync import Snapshot, run_sync
from tools.stripe import GatewayConfig, StripeGateway
stop = threading.Event()
signal.signal(signal.SIGINT, lambda *a: stop.set())
gw = StripeGateway(GatewayConfig(api_base=sys.argv[1], api_key=SecretStr(sys.argv[2]),
                                 expected_mode="test", rate_limit=1000.0))
report = run_sync(gw, Snapshot(sys.argv[3]), types=["customer"], stop=stop)
sys.exit(130 if report.interrupted else 0)
"""


@pytest.mark.slow
def test_sigint_mid_sync_checkpoints_and_the_next_run_resumes(replica, tmp_path: Path):
    import os
    import signal
    import subprocess
    import sys
    import time

    seeded = _seed(replica, 3000, 0, 0)
    replica.admin.add_fault(path="/v1/customers", kind="latency", latency_ms=150)
    snap_dir = tmp_path / "snap"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, replica.url, replica.api_key + "0" * 12, str(snap_dir)],
        cwd=Path(__file__).resolve().parents[3], env={**os.environ, "PYTHONPATH": "."})
    snap = Snapshot(snap_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        cp = snap.checkpoint()
        if "customer" in cp.types and any(s.count for s in cp.types["customer"].slices):
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=120) == 130
    assert 0 < snap.frame("customer").height < len(seeded)
    replica.admin.clear_faults()
    report = run_sync(_gateway(replica), snap, types=["customer"])
    assert report.complete
    ids = snap.frame("customer")["id"].to_list()
    assert len(ids) == len(set(ids)) == len(seeded)


def test_changes_after_a_sync_that_saw_no_event_are_not_lost(replica, tmp_path: Path):
    seeded = _seed(replica, 3, 0, 0)  # bulk-inserted: the account has no events yet
    snap = Snapshot(tmp_path / "snap")
    gateway = _gateway(replica)
    assert run_sync(gateway, snap, types=["customer"]).complete
    now = replica.admin.now()
    late = {"id": "cus_Late", "object": "customer", "created": now, "livemode": False,
            "email": "late@x.io"}
    replica.admin.bulk_insert([late, {"id": "evt_Late", "object": "event", "created": now,
                                      "type": "customer.created", "livemode": False,
                                      "data": {"object": late}}])
    again = run_sync(gateway, snap, types=["customer"])
    assert again.complete
    assert set(_synced_ids_of(snap, "customer")) == seeded | {"cus_Late"}
    # from now on the events API is the cursor
    assert snap.checkpoint().events.id == "evt_Late"


def _synced_ids_of(snap: Snapshot, object_type: str) -> list[str]:
    return snap.frame(object_type)["id"].to_list()
