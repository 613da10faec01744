"""Acceptance [I]: every example blueprint on the sandbox replica — plan → apply → plan shows
no changes; applying again leaves identical state; drift made directly on the replica (or in
the engagement config) is exactly what the next plan lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tests.tools.blueprints.conftest import NOW, changes, example
from tools.blueprints import apply_plan, make_plan


def _customers(replica) -> dict[str, str]:
    client = replica.client()
    acme = client.v1.customers.create(params={"email": "ops@acme.example"})
    kaisha = client.v1.customers.create(params={"email": "it@kaisha.example"})
    return {"acme": acme.id, "kaisha": kaisha.id}


def _state(gateway, paths: list[str]) -> str:
    """Every object at `paths`, canonical JSON: two equal states compare equal."""
    out: dict[str, Any] = {}
    for path in paths:
        out[path] = sorted(json.dumps(o, sort_keys=True) for o in gateway.list_all(path))
    return json.dumps(out, sort_keys=True)


def _settings(db) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        return [(k, json.dumps(b, sort_keys=True) if not isinstance(b, str) else b)
                for k, b in conn.execute(text(
                    "SELECT key, body FROM blueprint_settings ORDER BY key"))]


def test_catalog(replica, ctx, db, converge) -> None:
    loaded = example("catalog.yaml")
    first = make_plan(loaded, ctx)
    assert [i.action for i in first.items] == ["create"] * 7
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []

    paths = ["/v1/products", "/v1/prices"]
    before = _state(ctx.gateway, paths)
    again = apply_plan(loaded, ctx, approval=token)
    assert again.applied == [] and len(again.already_done) == 7
    assert apply_plan(loaded, ctx, approval=None).applied == []  # nothing to change, no writes
    assert _state(ctx.gateway, paths) == before

    jpy = next(ctx.gateway.list_all("/v1/prices", {"lookup_keys[]": "api_pro_monthly_jpy"}))
    assert jpy["unit_amount"] == 7800  # zero-decimal: "7800" JPY is 7800 minor units
    eur = next(ctx.gateway.list_all("/v1/prices", {"lookup_keys[]": "api_pro_monthly_eur"}))
    assert eur["unit_amount"] == 4900

    client = replica.client()
    client.v1.products.update("prod_fde_api_pro", params={"name": "API Pro (renamed by hand)"})
    client.v1.prices.update(eur["id"], params={"active": False})
    assert changes(make_plan(loaded, ctx)) == [
        ("product:prod_fde_api_pro", "update", ["name"]),
        ("price:api_pro_monthly_eur", "update", ["active"]),
    ]


def test_metering(replica, ctx, db, converge) -> None:
    who = _customers(replica)
    loaded = example("metering.yaml")
    first = make_plan(loaded, ctx)
    assert {i.key: i.action for i in first.items} == {
        "meter:fde_api_calls": "create", "setting:metering:api-usage:late_usage": "create",
        "usage:api-usage:u-1001": "create", "usage:api-usage:u-1002": "create",
        "usage:api-usage:u-1003": "create", "usage:api-usage:u-1004": "skip"}
    assert "late by 10 days" in next(i.note for i in first.items if i.action == "skip")
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []

    meter = next(ctx.gateway.list_all("/v1/billing/meters"))
    summary = ctx.gateway.get(f"/v1/billing/meters/{meter['id']}/event_summaries", {
        "customer": who["acme"], "start_time": NOW - 5 * 86400, "end_time": NOW})
    assert summary["data"][0]["aggregated_value"] == 1200 + 800  # the late row was dropped

    before = _state(ctx.gateway, ["/v1/billing/meters"]), _settings(db)
    assert apply_plan(loaded, ctx, approval=token).applied == []
    assert (_state(ctx.gateway, ["/v1/billing/meters"]), _settings(db)) == before

    replica.client().v1.billing.meters.update(meter["id"], params={"display_name": "Calls!"})
    assert changes(make_plan(loaded, ctx)) == [("meter:fde_api_calls", "update",
                                                ["display_name"])]


def test_checkout(replica, ctx, db, converge) -> None:
    converge(example("catalog.yaml"), ctx)
    loaded = example("checkout.yaml")
    assert len(make_plan(loaded, ctx).changes) == 3
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []
    before = _settings(db)
    assert apply_plan(loaded, ctx, approval=token).applied == []
    assert _settings(db) == before

    with db.engine.begin() as conn:  # someone edits the engagement config behind our back
        body = json.loads(conn.execute(text(
            "SELECT body FROM blueprint_settings WHERE key LIKE '%JP-jpy'")).scalar_one())
        body["payment_method_types"] = ["card", "link"]
        conn.execute(text("UPDATE blueprint_settings SET body = :b WHERE key LIKE '%JP-jpy'"),
                     {"b": json.dumps(body)})
    assert changes(make_plan(loaded, ctx)) == [
        ("setting:checkout:global-checkout:JP-jpy", "update", ["payment_method_types"])]


def test_dunning(ctx, db, converge) -> None:
    loaded = example("dunning.yaml")
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []
    before = _settings(db)
    assert apply_plan(loaded, ctx, approval=token).applied == []
    assert _settings(db) == before
    with db.engine.begin() as conn:
        body = json.loads(conn.execute(text("SELECT body FROM blueprint_settings")).scalar_one())
        body["end_state"] = "past_due"
        conn.execute(text("UPDATE blueprint_settings SET body = :b"), {"b": json.dumps(body)})
    assert changes(make_plan(loaded, ctx)) == [
        ("setting:dunning:standard-dunning", "update", ["end_state"])]


def _subscription(client, customer: str, price: str) -> str:
    return client.v1.subscriptions.create(params={
        "customer": customer, "items": [{"price": price}], "collection_method": "send_invoice",
        "days_until_due": 14}).id


def test_invoicing(replica, ctx, db, converge) -> None:
    client = replica.client()
    price = client.v1.prices.create(params={
        "currency": "eur", "unit_amount": 10000, "recurring": {"interval": "month"},
        "product_data": {"name": "Enterprise"}}).id
    big = client.v1.customers.create(params={"metadata": {"segment": "enterprise"}}).id
    small = client.v1.customers.create(params={"metadata": {"segment": "smb"}}).id
    governed = _subscription(client, big, price)
    untouched = _subscription(client, small, price)

    loaded = example("invoicing.yaml")
    assert changes(make_plan(loaded, ctx)) == [
        ("setting:invoicing:enterprise-net30", "create",
         ["applies_to", "collection_method", "credit_notes", "days_until_due"]),
        (f"subscription:{governed}", "update", ["days_until_due"])]
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []
    assert ctx.gateway.get(f"/v1/subscriptions/{governed}")["days_until_due"] == 30
    assert ctx.gateway.get(f"/v1/subscriptions/{untouched}")["days_until_due"] == 14

    before = _state(ctx.gateway, ["/v1/subscriptions"]), _settings(db)
    assert apply_plan(loaded, ctx, approval=token).applied == []
    assert (_state(ctx.gateway, ["/v1/subscriptions"]), _settings(db)) == before

    client.v1.subscriptions.update(governed, params={"days_until_due": 7})
    assert changes(make_plan(loaded, ctx)) == [
        (f"subscription:{governed}", "update", ["days_until_due"])]


@pytest.mark.parametrize("name", ["custom_minimum_commit_eur.yaml",
                                  "custom_minimum_commit_jpy.yaml"])
def test_custom_logic(replica, ctx, db, converge, name: str) -> None:
    who = _customers(replica)
    loaded = example(name)
    token = converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []
    customer = who["acme" if "eur" in name else "kaisha"]
    before = _state(ctx.gateway, ["/v1/invoiceitems"])
    assert apply_plan(loaded, ctx, approval=token).applied == []
    assert _state(ctx.gateway, ["/v1/invoiceitems"]) == before

    items = {i["metadata"]["fde_item"].rsplit(":", 1)[1]: i
             for i in ctx.gateway.list_all("/v1/invoiceitems", {"customer": customer})}
    client = replica.client()
    client.v1.invoice_items.update(items["usage"]["id"], params={"amount": 1})
    client.v1.invoice_items.delete(items["true_up"]["id"])
    drift = changes(make_plan(loaded, ctx))
    assert [(key.rsplit(":", 1)[1], action, fields) for key, action, fields in drift] == [
        ("usage", "update", ["amount"]),
        ("true_up", "create", ["amount", "currency", "description"])]
