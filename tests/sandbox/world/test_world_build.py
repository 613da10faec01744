"""The world generator: determinism, coverage of statuses/methods/objects, agreement of the
company DB with Stripe in a clean world, and bad input."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from core.errors import ConfigError
from sandbox.world.build import MANIFEST, REPLICA_DB, SNAPSHOT, WorldInfo, build_world
from sandbox.world.config import WorldConfig
from tests.sandbox.world.compare import differing_objects


def _objects(world: Path, kind: str) -> list[dict]:
    conn = sqlite3.connect(world / REPLICA_DB)
    try:
        return [json.loads(d) for (d,) in conn.execute(
            "SELECT data FROM objects WHERE type=? ORDER BY seq", (kind,))]
    finally:
        conn.close()


def test_same_seed_gives_byte_identical_snapshot_and_manifest(clean_world, tmp_path):
    world, info = clean_world
    again = tmp_path / "again"
    info2 = build_world(WorldConfig.parse(seed=11, size="demo"), again)
    assert (again / SNAPSHOT).read_bytes() == (world / SNAPSHOT).read_bytes()
    assert (again / MANIFEST).read_bytes() == (world / MANIFEST).read_bytes()
    assert info2.snapshot_sha256 == info.snapshot_sha256


def test_another_seed_gives_another_world(clean_world, tmp_path):
    _world, info = clean_world
    other = build_world(WorldConfig.parse(seed=12, size="demo"), tmp_path / "other")
    assert other.snapshot_sha256 != info.snapshot_sha256


def test_every_status_method_and_object_kind_is_present(clean_world):
    world, info = clean_world
    subs = Counter(s["status"] for s in _objects(world, "subscription"))
    for status in ("trialing", "active", "past_due", "unpaid", "canceled", "incomplete",
                   "incomplete_expired", "paused"):
        assert subs[status] > 0, (status, subs)
    invoices = _objects(world, "invoice")
    statuses = Counter(i["status"] for i in invoices)
    for status in ("draft", "open", "paid", "void", "uncollectible"):
        assert statuses[status] > 0, (status, statuses)
    assert any(i["metadata"].get("scenario") == "out_of_band" and i["status"] == "paid"
               for i in invoices)
    assert any(i["status"] == "paid" and i["amount_paid"] == 0 and i["total"] > 0
               for i in invoices)  # paid from the credit balance
    charges = _objects(world, "charge")
    methods = Counter((c["payment_method_details"] or {}).get("type") for c in charges)
    for method in ("card", "sepa_debit", "us_bank_account", "oxxo", "boleto", "konbini",
                   "customer_balance"):
        assert methods[method] > 0, (method, methods)
    debit_outcomes = {(c["payment_method_details"]["type"], c["status"]) for c in charges}
    assert ("sepa_debit", "failed") in debit_outcomes
    assert ("us_bank_account", "succeeded") in debit_outcomes
    pis = _objects(world, "payment_intent")
    assert any((p.get("last_payment_error") or {}).get("code")
               == "payment_intent_payment_attempt_expired" for p in pis)  # expired voucher
    refunds = Counter(r["status"] for r in _objects(world, "refund"))
    assert refunds["failed"] > 0 and refunds["succeeded"] > 0
    disputes = Counter(d["status"] for d in _objects(world, "dispute"))
    assert {"needs_response", "won", "lost"} <= set(disputes), disputes
    currencies = {c["currency"] for c in charges}
    assert {"usd", "eur", "gbp", "jpy", "brl", "mxn", "bhd"} <= currencies
    countries = {c["address"]["country"] for c in _objects(world, "customer")}
    assert len(countries) >= 8
    for kind in ("credit_note", "billing.meter_event", "payout", "balance_transaction",
                 "checkout.session", "customer_cash_balance_transaction"):
        assert info.counts.get(kind, 0) > 0, kind
    assert len(_objects(world, "account")) == 2
    prices = _objects(world, "price")
    assert {p["metadata"].get("kind") for p in prices} >= {"flat", "per_seat", "tiered", "metered"}
    assert all(p["lookup_key"] for p in prices)
    assert info.counts["event"] > 0 and info.counts["delivery_attempt"] >= info.counts["event"]


def test_clean_world_agrees_with_stripe_field_by_field(clean_world):
    world, _info = clean_world
    assert differing_objects(world) == {}
    manifest = json.loads((world / MANIFEST).read_text())
    assert manifest["switches"] == {}


@pytest.mark.parametrize(("kw", "needle"), [
    ({"bugs": "FM-99"}, "valid ids: FM-01"),
    ({"seed": -1}, "0..2147483647"),
    ({"seed": 2**31}, "out of range"),
    ({"size": "huge"}, "valid sizes: tiny, demo"),
])
def test_bad_input_is_a_clear_config_error(kw, needle):
    with pytest.raises(ConfigError) as err:
        WorldConfig.parse(**kw)
    assert needle in str(err.value)


def test_info_names_the_endpoint_and_counts(clean_world):
    _world, info = clean_world
    assert isinstance(info, WorldInfo)
    assert info.endpoint_secret.startswith("whsec_") and info.counts["customer"] >= 40
