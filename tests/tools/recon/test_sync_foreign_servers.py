"""Sync against Stripe-compatible servers that are not the replica: localstripe (a real,
independent emulator) and the replica behind a proxy that answers as other servers do (404
for a product the account lacks, 400 for a parameter it does not take, 403 for a restricted
key without a permission). None of them may abort the sync."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe
from pydantic import SecretStr

from tests.stripe_like import StripeLike, stripe_like_server
from tools.recon.sync import Snapshot, run_sync
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

LS_KEY = "sk_test_" + "ForeignSync0000000000000"


def _gateway(api_base: str, key: str) -> StripeGateway:
    return StripeGateway(
        GatewayConfig(api_base=api_base, api_key=SecretStr(key), expected_mode="test",
                      rate_limit=1000.0, max_retries=0),
        limiters=RateLimiterRegistry(), sleep=lambda s: None)


@pytest.fixture
def proxy(replica):
    with stripe_like_server(replica.url) as server:
        yield server


def _proxied(proxy: StripeLike, replica) -> StripeGateway:
    return _gateway(proxy.url, replica.api_key + "0" * 12)


# -- localstripe ------------------------------------------------------------------------------
@pytest.mark.localstripe
def test_localstripe_full_then_incremental_sync(localstripe: str, tmp_path: Path):
    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe})
    first = client.v1.customers.create(params={"email": "first@x.io"})
    gw, snap = _gateway(localstripe, LS_KEY), Snapshot(tmp_path / "snap")

    report = run_sync(gw, snap)  # every type we know, as a new user would

    # what localstripe has no list for is recorded, per type; the rest synced
    assert report.complete and not report.interrupted
    assert set(report.unavailable) == {"price", "dispute", "checkout.session", "billing.meter",
                                       "customer_cash_balance_transaction", "webhook_endpoint"}
    assert "GET /v1/prices answered 404" in report.unavailable["price"]
    assert "{customer}" in report.unavailable["customer_cash_balance_transaction"]
    assert first.id in snap.frame("customer")["id"].to_list()
    assert set(snap.checkpoint().unavailable()) == set(report.unavailable)

    # incremental: localstripe answers 400 to ending_before; created[gte] takes over
    client.v1.customers.update(first.id, params={"email": "changed@x.io"})
    second = client.v1.customers.create(params={"email": "second@x.io"})
    report = run_sync(gw, snap)
    assert report.complete and report.events_applied >= 2
    assert snap.checkpoint().events.paging == "created"
    customers = {row["id"]: row["data"] for row in snap.frame("customer").iter_rows(named=True)}
    assert second.id in customers and "changed@x.io" in customers[first.id]

    # a third run replays nothing twice (the overlap second is deduplicated by id)
    before = snap.frame("event").height
    report = run_sync(gw, snap)
    assert report.events_applied == 0 and snap.frame("event").height == before


# -- a server without some list endpoints ------------------------------------------------------
def test_404_list_is_unavailable_for_that_type_only_and_retried(replica, proxy, tmp_path):
    client = replica.client()
    cus = client.v1.customers.create(params={"email": "a@x.io"})
    product = client.v1.products.create(params={"name": "Seat"})
    client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                    "unit_amount": 900})
    proxy.missing.add("/v1/prices")
    gw, snap = _proxied(proxy, replica), Snapshot(tmp_path / "snap")

    report = run_sync(gw, snap, types=["customer", "product", "price", "event"])

    assert report.complete
    assert report.unavailable == {
        "price": "not available on this account (GET /v1/prices answered 404)"}
    assert snap.frame("customer")["id"].to_list() == [cus.id]
    assert snap.frame("product")["id"].to_list() == [product.id]
    assert not snap.checkpoint().types["price"].complete

    # the account gets the product: the next sync lists the type and clears the record
    proxy.missing.clear()
    report = run_sync(gw, snap, types=["customer", "product", "price", "event"])
    assert report.complete and report.unavailable == {}
    assert snap.frame("price").height == 1 and snap.checkpoint().types["price"].complete


def test_404_from_a_stale_cursor_is_not_taken_for_a_missing_endpoint(replica, proxy, tmp_path):
    replica.client().v1.customers.create(params={"email": "a@x.io"})
    gw, snap = _proxied(proxy, replica), Snapshot(tmp_path / "snap")
    with snap.editing() as cp:  # a killed sync left a cursor on an object deleted since
        from tools.recon.sync.store import Slice, TypeState
        cp.types["customer"] = TypeState(generation=1, running=True, version=1,
                                         slices=[Slice(cursor="cus_gone000000")])
    with pytest.raises(Exception, match="cus_gone000000"):
        run_sync(gw, snap, types=["customer"])
    assert "customer" not in snap.checkpoint().unavailable()


# -- a server that refuses the events cursor parameter -----------------------------------------
def test_events_cursor_falls_back_when_ending_before_is_rejected(replica, proxy, tmp_path):
    client = replica.client()
    cus = client.v1.customers.create(params={"email": "old@x.io"})
    proxy.rejected_params.add("ending_before")
    gw, snap = _proxied(proxy, replica), Snapshot(tmp_path / "snap")
    assert run_sync(gw, snap, types=["customer", "event"]).complete

    client.v1.customers.update(cus.id, params={"email": "new@x.io"})
    added = [client.v1.customers.create(params={"email": f"n{i}@x.io"}).id for i in range(3)]
    report = run_sync(gw, snap, types=["customer", "event"])

    assert report.complete and report.mode == "incremental" and not report.warnings
    assert report.events_applied == 4
    rows = {r["id"]: r["data"] for r in snap.frame("customer").iter_rows(named=True)}
    assert set(added) <= set(rows) and "new@x.io" in rows[cus.id]
    # later syncs go straight to created[gte] (one refused request, not one per sync)
    proxy.seen.clear()
    client.v1.customers.create(params={"email": "later@x.io"})
    assert run_sync(gw, snap, types=["customer", "event"]).events_applied == 1
    asked = [s for s in proxy.seen if s.startswith("GET /v1/events?")]
    assert not any("ending_before" in s for s in asked)
    assert any("created%5Bgte%5D" in s or "created[gte]" in s for s in asked)


def test_events_cursor_refused_entirely_falls_back_to_a_full_resync(replica, proxy, tmp_path):
    client = replica.client()
    client.v1.customers.create(params={"email": "a@x.io"})
    gw, snap = _proxied(proxy, replica), Snapshot(tmp_path / "snap")
    assert run_sync(gw, snap, types=["customer", "event"]).complete
    proxy.rejected_params |= {"ending_before", "created"}
    late = client.v1.customers.create(params={"email": "b@x.io"})

    report = run_sync(gw, snap, types=["customer", "event"])

    assert report.complete and report.mode == "full"
    assert any("ending_before" in w and "created[gte]" in w for w in report.warnings)
    assert late.id in snap.frame("customer")["id"].to_list()


# -- a restricted key without a permission -----------------------------------------------------
def test_403_permission_is_reported_per_type(replica, proxy, tmp_path):
    client = replica.client()
    cus = client.v1.customers.create(params={"email": "a@x.io"})
    proxy.forbidden["/v1/charges"] = "rak_charge_read"
    proxy.forbidden["/v1/events"] = "rak_event_read"
    gw, snap = _proxied(proxy, replica), Snapshot(tmp_path / "snap")

    report = run_sync(gw, snap, types=["customer", "charge", "event"])

    assert report.complete
    assert set(report.unavailable) == {"charge", "event"}
    assert "rak_charge_read" in report.unavailable["charge"]
    assert "403" in report.unavailable["charge"]
    assert snap.frame("customer")["id"].to_list() == [cus.id]
    assert snap.checkpoint().unavailable()["event"].permission == "rak_event_read"


# -- what a reconciliation run makes of it -----------------------------------------------------
def test_recon_run_is_incomplete_for_exactly_the_unavailable_types(replica, proxy, tmp_path):
    import sqlite3

    from tools.recon.adapter import open_user_system
    from tools.recon.mapping import Mapping
    from tools.recon.models import Verdict
    from tools.recon.run import run_recon

    client = replica.client()
    kept = client.v1.customers.create(params={"email": "kept@x.io"})
    unknown = client.v1.customers.create(params={"email": "nobody-has-me@x.io"})
    product = client.v1.products.create(params={"name": "Seat"})
    price = client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                            "unit_amount": 900})
    db = tmp_path / "company.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE members (id INTEGER PRIMARY KEY, stripe_ref TEXT, mail TEXT)")
        conn.execute("CREATE TABLE plans (id INTEGER PRIMARY KEY, stripe_ref TEXT, cents INT)")
        conn.execute("INSERT INTO members VALUES (1, ?, 'kept@x.io')", (kept.id,))
        conn.execute("INSERT INTO plans VALUES (1, ?, 900)", (price.id,))
    mapping = Mapping.model_validate({"version": 1, "entities": {
        "customer": {"table": "members", "stripe_object": "customer", "key": "stripe_ref",
                     "fields": {"email": "mail"}},
        "price": {"table": "plans", "stripe_object": "price", "key": "stripe_ref",
                  "fields": {"unit_amount": {"column": "cents", "type": "int"}}},
    }})
    proxy.missing.add("/v1/prices")
    snap = Snapshot(tmp_path / "snap")
    run_sync(_proxied(proxy, replica), snap, types=["customer", "price"])

    run = run_recon(snapshot=snap, user=open_user_system(f"sqlite:///{db}", mapping),
                    mapping=mapping)

    assert run.verdict == Verdict.INCOMPLETE
    assert run.incomplete_reasons == [
        "Stripe price not compared: not available on this account (GET /v1/prices answered "
        "404)"]
    # customers were still compared; the price row is not called an orphan
    found = {(d.class_.value, d.stripe_id) for d in run.discrepancies}
    assert ("MISSING_LOCAL", unknown.id) in found
    assert not any(d.stripe_id == price.id or d.entity == "price" for d in run.discrepancies)


@pytest.mark.localstripe
def test_since_on_a_server_that_refuses_created_windows(localstripe: str, tmp_path: Path):
    import time

    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe})
    old = client.v1.customers.create(params={"email": "old@x.io"})
    time.sleep(1.1)  # localstripe stamps `created` in whole seconds
    since = int(time.time())
    new = client.v1.customers.create(params={"email": "new@x.io"})
    snap = Snapshot(tmp_path / "snap")

    # localstripe answers 400 "Unexpected created" on /v1/customers: the window is ours
    report = run_sync(_gateway(localstripe, LS_KEY), snap, types=["customer"], since=since)

    assert report.complete and not report.unavailable
    ids = snap.frame("customer")["id"].to_list()
    assert new.id in ids and old.id not in ids


@pytest.mark.localstripe
def test_same_second_events_apply_in_the_order_they_happened(localstripe: str, tmp_path):
    # localstripe lists events oldest first and stamps whole seconds: a customer created and
    # changed twice within one second must end with its last email, not its first
    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe})
    gw, snap = _gateway(localstripe, LS_KEY), Snapshot(tmp_path / "snap")
    client.v1.customers.create(params={"email": "before@x.io"})
    assert run_sync(gw, snap, types=["customer"]).complete
    cus = client.v1.customers.create(params={"email": "v1@x.io"})
    client.v1.customers.update(cus.id, params={"email": "v2@x.io"})
    client.v1.customers.update(cus.id, params={"email": "v3@x.io"})

    report = run_sync(gw, snap, types=["customer"])

    assert report.events_applied >= 3
    row = snap.frame("customer").filter(snap.frame("customer")["id"] == cus.id)["data"][0]
    assert '"v3@x.io"' in row


@pytest.mark.localstripe
def test_the_events_cursor_starts_at_the_newest_event_on_an_oldest_first_server(
        localstripe: str):
    import time

    from tools.recon.sync.events import newest_event

    client = stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe})
    client.v1.customers.create(params={"email": "earlier@x.io"})
    time.sleep(1.1)
    last = client.v1.customers.create(params={"email": "latest@x.io"})

    cursor = newest_event(_gateway(localstripe, LS_KEY))

    newest = client.v1.events.retrieve(cursor.id)
    assert newest.type == "customer.created" and newest.data.object["id"] == last.id


def test_404_on_a_templated_child_list_probes_the_parent_not_the_template(replica, proxy,
                                                                           tmp_path):
    # meter event summaries are asked per meter of a metered subscription; a server without
    # them answers 404, and the probe must not send "/v1/billing/meters/{meter}/…" itself
    from core.errors import StripeRequestError
    from tools.recon.sync.availability import judge
    from tools.recon.sync.types import SYNC_TYPES

    client = replica.client()
    cus = client.v1.customers.create(params={"email": "m@x.io"})
    product = client.v1.products.create(params={"name": "API calls"})
    price = client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                            "unit_amount": 1, "recurring": {"interval": "month"}})
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": price.id}], "collection_method": "send_invoice",
        "days_until_due": 30})
    missing = StripeRequestError("Unrecognized request URL", http_status=404)
    reason = judge(_proxied(proxy, replica), SYNC_TYPES["billing.meter_event_summary"],
                   missing, account=None, parent=sub.id)
    assert reason is not None and reason.kind == "not_available"
    assert "{meter}" in reason.request
