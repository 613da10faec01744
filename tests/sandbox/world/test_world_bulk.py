"""The bulk history path: rows shaped like the engine's, linked up, and agreeing with the
company DB through mapping.yaml (a demo-sized window plus a few hundred history customers)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from sandbox.world import config
from sandbox.world.build import REPLICA_DB, build_world
from sandbox.world.config import SizeSpec, WorldConfig
from tests.sandbox.world.compare import diffs

BULK_TYPES = ("customer", "payment_method", "subscription", "subscription_item", "invoice",
              "invoice_payment", "payment_intent", "charge", "balance_transaction")


@pytest.fixture(scope="module")
def bulk_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SizeSpec(customers=40, one_off=2, connect_customers=3, usage_days=5,
                    history_customers=150)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(config.SIZES, "bulk_test", spec)
        directory = tmp_path_factory.mktemp("bulk") / "world"
        build_world(WorldConfig(seed=5, size="bulk_test"), directory)
    return directory


def _objects(world: Path) -> list[dict]:
    conn = sqlite3.connect(world / REPLICA_DB)
    try:
        return [json.loads(d) for (d,) in conn.execute("SELECT data FROM objects ORDER BY seq")]
    finally:
        conn.close()


def _history_ids(objects: list[dict]) -> set[str]:
    """Ids of objects belonging to history customers (metadata.user_id hist_*)."""
    customers = {o["id"] for o in objects if o["object"] == "customer"
                 and o["metadata"].get("user_id", "").startswith("hist_")}
    ids = {o["id"] for o in objects if o.get("customer") in customers} | customers
    subs = {o["id"] for o in objects if o["object"] == "subscription" and o["id"] in ids}
    charges = {o["id"] for o in objects if o["object"] == "charge" and o["id"] in ids}
    invoices = {o["id"] for o in objects if o["object"] == "invoice" and o["id"] in ids}
    for o in objects:
        if (o.get("subscription") in subs or o.get("source") in charges
                or o.get("invoice") in invoices):
            ids.add(o["id"])
    return ids


def _shape(value: object) -> object:
    """Keys and value types, all the way down (metadata is free-form: just "dict")."""
    if isinstance(value, dict):
        return {k: "dict" if k == "metadata" else _shape(v) for k, v in sorted(value.items())}
    return type(value).__name__ if value is not None else None


def test_bulk_rows_have_the_engines_shape(bulk_world):
    objects = _objects(bulk_world)
    history = _history_ids(objects)
    keys: dict[tuple[str, bool], set[frozenset[str]]] = defaultdict(set)
    for o in objects:
        if o["object"] in BULK_TYPES:
            keys[(o["object"], o.get("id") in history)].add(frozenset(o))
    for kind in BULK_TYPES:
        bulk, engine = keys[(kind, True)], keys[(kind, False)]
        assert bulk, kind
        assert bulk <= engine, (kind, [sorted(k ^ next(iter(engine))) for k in bulk])
    # nested shape of the richest objects, with the types of their values
    for kind in ("subscription", "invoice", "charge", "payment_intent"):
        engine_shapes = {json.dumps(_shape(o), sort_keys=True)
                         for o in objects if o["object"] == kind and o["id"] not in history}
        for o in objects:
            if o["object"] == kind and o["id"] in history:
                shape = json.dumps(_shape(o), sort_keys=True)
                assert shape in engine_shapes, (kind, o["id"])
                break


def test_bulk_rows_link_up(bulk_world):
    objects = _objects(bulk_world)
    history = _history_ids(objects)
    by_id = {o["id"]: o for o in objects if "id" in o}
    bulk = [o for o in objects if o.get("id") in history]
    assert len(bulk) > 1500
    for o in bulk:
        kind = o["object"]
        if kind == "charge":
            txn = by_id[o["balance_transaction"]]
            assert txn["source"] == o["id"] and txn["amount"] == o["amount"]
            assert txn["fee"] > 0 and txn["net"] == txn["amount"] - txn["fee"]
            assert by_id[o["payment_intent"]]["latest_charge"] == o["id"]
        elif kind == "invoice_payment":
            pi = by_id[o["payment"]["payment_intent"]]
            invoice = by_id[o["invoice"]]
            assert pi["amount"] == invoice["amount_paid"] == o["amount_paid"]
            assert pi["customer"] == invoice["customer"]
        elif kind == "invoice":
            sub = by_id[o["parent"]["subscription_details"]["subscription"]]
            assert sub["customer"] == o["customer"] and o["status"] == "paid"
            assert o["total"] == sum(line["amount"] for line in o["lines"]["data"])
        elif kind == "subscription":
            assert o["status"] == "canceled" and o["latest_invoice"] in by_id
            assert by_id[o["items"]["data"][0]["id"]]["subscription"] == o["id"]
        elif kind == "payment_intent":
            assert by_id[o["customer"]]["object"] == "customer"
    conn = sqlite3.connect(bulk_world / REPLICA_DB)
    try:
        events = {json.loads(d)["data"]["object"].get("id") for (d,) in conn.execute(
            "SELECT data FROM events")}
        undelivered = conn.execute(
            "SELECT count(*) FROM events WHERE id NOT IN (SELECT event_id FROM deliveries)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert {o["id"] for o in bulk if o["object"] in ("invoice", "charge", "subscription")} \
        <= events
    assert undelivered == 0


def test_company_db_agrees_with_stripe_on_the_bulk_rows(bulk_world):
    history = _history_ids(_objects(bulk_world))
    found = [d for d in diffs(bulk_world) if d.stripe_id in history]
    assert found == []


def test_bulk_history_is_deterministic(bulk_world, tmp_path):
    spec = config.SIZES.get("bulk_test") or SizeSpec(
        customers=40, one_off=2, connect_customers=3, usage_days=5, history_customers=150)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(config.SIZES, "bulk_test", spec)
        build_world(WorldConfig(seed=5, size="bulk_test"), tmp_path / "again")
    for name in ("snapshot.jsonl", "manifest.json"):
        assert (tmp_path / "again" / name).read_bytes() == (bulk_world / name).read_bytes()
