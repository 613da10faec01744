"""Replica clock, due work, snapshots and the bulk-insert fast path."""

from __future__ import annotations

import time

from sandbox.replica import crud
from sandbox.replica.app import build_registry
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.context import Ctx
from sandbox.replica.resources import customers
from sandbox.replica.store import Store
from sandbox.replica.testing import running_replica

DAY = 86400


def test_clock_stamps_created_and_moves_on_request(replica, stripe_client):
    start = replica.admin.now()
    assert abs(start - time.time()) < 5
    replica.admin.advance_clock(10 * DAY)
    later = stripe_client.v1.customers.create(params={"name": "Future"})
    assert later.created >= start + 10 * DAY
    event = stripe_client.v1.events.list().data[0]
    assert event.created >= start + 10 * DAY
    frozen = replica.admin.set_clock(1_700_000_000, freeze=True)
    assert frozen["now"] == 1_700_000_000 and frozen["frozen"] is True
    time.sleep(1.1)
    assert stripe_client.v1.customers.create().created == 1_700_000_000


def _flag_later(ctx: Ctx, params: dict, id: str) -> dict:
    customer = crud.load(ctx, customers.SPEC, id)
    ctx.schedule(ctx.now() + 3 * DAY, "test.flag", {"id": id, "at": ctx.now() + 3 * DAY})
    return customer


def _flag(ctx: Ctx, payload: dict) -> None:
    customer = crud.load(ctx, customers.SPEC, payload["id"])
    crud.update(ctx, customers.SPEC, customer, {"metadata": {"flagged_at": str(ctx.now())}})


def test_due_work_runs_when_the_clock_passes_it(tmp_path):
    registry = build_registry()
    registry.route("POST", "/v1/customers/{id}/flag_later", _flag_later)
    registry.on_due("test.flag", _flag)
    config = ReplicaConfig(db_path=tmp_path / "r.sqlite", clock_start=1_750_000_000,
                           clock_frozen=True, tick_seconds=0.05)
    with running_replica(config.db_path, config=config, registry=registry) as replica:
        client = replica.client()
        customer = client.v1.customers.create(params={"name": "Later"})
        raw = client.raw_request("post", f"/v1/customers/{customer.id}/flag_later")
        assert raw.code == 200
        assert len(replica.admin.due(pending=True)) == 1
        assert replica.admin.advance_clock(2 * DAY)["ran"] == 0
        assert client.v1.customers.retrieve(customer.id).metadata.to_dict() == {}
        assert replica.admin.advance_clock(2 * DAY)["ran"] == 1
        flagged = client.v1.customers.retrieve(customer.id)
        # The work ran "at" its due time, not at the time the clock was moved to.
        assert flagged.metadata["flagged_at"] == str(1_750_000_000 + 3 * DAY)
        event = client.v1.events.list(params={"type": "customer.updated"}).data[0]
        assert event.created == 1_750_000_000 + 3 * DAY
        assert event.request.id is None
        assert replica.admin.due(pending=True) == []


def test_snapshot_round_trip(replica, stripe_client, tmp_path):
    kept = stripe_client.v1.customers.create(params={"name": "Kept"})
    replica.admin.advance_clock(5 * DAY)
    replica.admin.save_snapshot("snap.sqlite")  # in the replica's snapshot folder
    assert (replica.config.snapshots / "snap.sqlite").is_file()
    stripe_client.v1.customers.create(params={"name": "After snapshot"})
    assert len(stripe_client.v1.customers.list().data) == 2
    replica.admin.load_snapshot("snap.sqlite")
    assert [c.id for c in stripe_client.v1.customers.list().data] == [kept.id]
    # A fresh replica beside it (same snapshot folder) loads the same state and clock.
    with running_replica(tmp_path / "copy.sqlite") as other:
        other.admin.load_snapshot(replica.config.snapshots / "snap.sqlite")
        assert other.client().v1.customers.retrieve(kept.id).name == "Kept"
        assert other.admin.now() >= kept.created + 5 * DAY


def test_bulk_insert_is_served(tmp_path):
    # Speed is measured by benchmarks/world.py, not asserted here.
    db = tmp_path / "bulk.sqlite"
    store = Store(db)
    n = 100_000
    objects = (
        {"id": f"cus_bulk{i:08d}", "object": "customer", "created": 1_700_000_000 + i,
         "email": f"c{i}@example.com", "metadata": {}, "livemode": False}
        for i in range(n)
    )
    assert store.bulk_insert(objects, account="acct_fdesandbox000000") == n
    store.close()
    with running_replica(db) as replica:
        client = replica.client()
        page = client.v1.customers.list(params={"limit": 3})
        assert [c.id for c in page.data] == [f"cus_bulk{i:08d}" for i in (n - 1, n - 2, n - 3)]
        found = client.v1.customers.list(params={"email": "c4242@example.com"})
        assert [c.id for c in found.data] == ["cus_bulk00004242"]
        deep = client.v1.customers.list(params={"limit": 2, "starting_after": "cus_bulk00000002"})
        assert [c.id for c in deep.data] == ["cus_bulk00000001", "cus_bulk00000000"]
