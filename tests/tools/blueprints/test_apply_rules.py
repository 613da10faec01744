"""Approval, resumability, price versioning and audit entries of `apply`."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from core import audit, engagements
from core.engagements import EngagementCreate
from core.secrets import SecretBox
from tests.tools.blueprints.conftest import changes, example
from tools.blueprints import (
    ApprovalRequired,
    BlueprintInvalid,
    apply_plan,
    approve_plan,
    make_plan,
    parse_blueprint,
)
from tools.blueprints.loader import LoadedBlueprint
from tools.workspace.timeline import timeline

_CATALOG = {"kind": "catalog", "name": "t", "products": [{
    "id": "prod_fde_test", "name": "Test", "prices": [
        {"lookup_key": "t_monthly_eur", "currency": "eur", "unit_amount": "10.00",
         "recurring": {"interval": "month"}},
        {"lookup_key": "t_setup_gbp", "currency": "gbp", "unit_amount": "5.00"}]}]}


def _loaded(data: dict, ctx) -> LoadedBlueprint:
    return LoadedBlueprint(spec=parse_blueprint(data), base_dir=ctx.base_dir, source="test")


def test_apply_without_approval_is_refused_and_writes_nothing(ctx) -> None:
    loaded = example("catalog.yaml")
    with pytest.raises(ApprovalRequired, match="has not been approved"):
        apply_plan(loaded, ctx, approval=None)
    with pytest.raises(ApprovalRequired, match="not an approval"):
        apply_plan(loaded, ctx, approval="bpa_forged")
    assert list(ctx.gateway.list_all("/v1/products")) == []


def test_approval_binds_to_the_reviewed_plan(replica, ctx) -> None:
    loaded = _loaded(_CATALOG, ctx)
    plan = make_plan(loaded, ctx)
    with pytest.raises(ApprovalRequired, match="not the reviewed"):
        approve_plan(ctx, plan, approver="eng:ana", digest="0" * 16)
    approval = approve_plan(ctx, plan, approver="eng:ana", digest=plan.digest)
    # the account changes between review and apply: the approval no longer covers it
    replica.client().v1.products.create(params={"id": "prod_fde_test", "name": "Other",
                                                "metadata": {"fde_blueprint": "t"}})
    with pytest.raises(ApprovalRequired, match="no longer matches the approved plan"):
        apply_plan(loaded, ctx, approval=approval.token)


def _timeline_entry(db, engagement: str):
    with db.session() as session:
        if not any(e.name == engagement for e in engagements.list_all(session)):
            box = SecretBox(Fernet.generate_key())
            engagements.add(session, box, EngagementCreate(
                name=engagement, stripe_key=SecretStr("sk_test_" + "T" * 24)), actor="test")
        [entry] = timeline(session, engagement, kinds={"blueprint_apply"})
    return entry


def test_interrupted_apply_resumes_without_duplicates(replica, ctx, db) -> None:
    loaded = _loaded(_CATALOG, ctx)
    plan = make_plan(loaded, ctx)
    approval = approve_plan(ctx, plan, approver="eng:ana", digest=plan.digest)
    replica.admin.add_fault(method="POST", path="/v1/prices", kind="server_error", count=50)
    with pytest.raises(Exception, match="500|server|error"):
        apply_plan(loaded, ctx, approval=approval.token)
    assert [p["id"] for p in ctx.gateway.list_all("/v1/products")] == ["prod_fde_test"]
    assert list(ctx.gateway.list_all("/v1/prices")) == []
    entry = _timeline_entry(db, ctx.engagement)  # it says failed, not "applied"
    assert (entry.title, entry.status) == ("blueprint t apply failed", "failed")
    assert entry.body == "1 done, 1 failed"
    replica.admin.clear_faults()

    report = apply_plan(loaded, ctx, approval=approval.token)
    assert report.already_done == ["product:prod_fde_test"]
    assert report.applied == ["price:t_monthly_eur", "price:t_setup_gbp"]
    assert len(list(ctx.gateway.list_all("/v1/prices"))) == 2
    assert make_plan(loaded, ctx).changes == []
    entry = _timeline_entry(db, ctx.engagement)
    with db.session() as session:
        actions = [(e.action, e.target, e.actor) for e in audit.entries(session)
                   if e.action.startswith("blueprint.")]
    assert (entry.title, entry.body) == ("blueprint t applied", "3 done")
    assert sorted(actions) == sorted([
        ("blueprint.approve", "blueprint:t", "eng:ana"),
        ("blueprint.create", "product:prod_fde_test", "eng:ana"),
        ("blueprint.create", "price:t_monthly_eur", "eng:ana"),
        ("blueprint.create", "price:t_setup_gbp", "eng:ana")])


def test_changed_amount_is_a_new_price_that_takes_the_lookup_key(ctx, converge) -> None:
    converge(_loaded(_CATALOG, ctx), ctx)
    old = next(ctx.gateway.list_all("/v1/prices", {"lookup_keys[]": "t_monthly_eur"}))
    data = {**_CATALOG, "products": [{**_CATALOG["products"][0], "prices": [
        {**_CATALOG["products"][0]["prices"][0], "unit_amount": "12.50"},
        _CATALOG["products"][0]["prices"][1]]}]}
    loaded = _loaded(data, ctx)
    plan = make_plan(loaded, ctx)
    assert changes(plan) == [("price:t_monthly_eur", "replace", ["unit_amount"])]
    assert plan.changes[0].changes[0].before == 1000 and plan.changes[0].changes[0].after == 1250
    converge(loaded, ctx)
    holders = list(ctx.gateway.list_all("/v1/prices", {"lookup_keys[]": "t_monthly_eur"}))
    assert [(p["unit_amount"], p["active"]) for p in holders] == [(1250, True)]
    assert ctx.gateway.get(f"/v1/prices/{old['id']}")["active"] is False
    assert make_plan(loaded, ctx).changes == []


def test_price_removed_from_the_blueprint_is_deactivated(ctx, converge) -> None:
    converge(_loaded(_CATALOG, ctx), ctx)
    data = {**_CATALOG, "products": [{**_CATALOG["products"][0],
                                      "prices": _CATALOG["products"][0]["prices"][:1]}]}
    loaded = _loaded(data, ctx)
    assert changes(make_plan(loaded, ctx)) == [("price:t_setup_gbp", "deactivate", ["active"])]
    converge(loaded, ctx)
    assert make_plan(loaded, ctx).changes == []


def test_config_rows_and_items_are_recorded(ctx, db, converge) -> None:
    converge(example("dunning.yaml"), ctx)
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT item_key, action, status FROM blueprint_items "
                                 "WHERE item_key != '@started'")).all()
        who = conn.execute(text("SELECT updated_by FROM blueprint_settings")).scalar_one()
    assert rows == [("setting:dunning:standard-dunning", "create", "done")]
    assert who == "eng:ana"


def test_sub_minor_unit_prices_use_unit_amount_decimal(replica, ctx, converge) -> None:
    """0.035 EUR and 2.5 JPY a call: Stripe takes them as unit_amount_decimal (3.5 cents,
    2.5 yen), and a re-plan finds them unchanged."""
    data = {"kind": "catalog", "name": "per-call", "products": [{
        "id": "prod_fde_calls", "name": "API calls", "prices": [
            {"lookup_key": "calls_eur", "currency": "eur", "unit_amount": "0.035",
             "recurring": {"interval": "month"}},
            {"lookup_key": "calls_jpy", "currency": "jpy", "unit_amount": "2.5",
             "recurring": {"interval": "month"}},
            {"lookup_key": "calls_tiered", "currency": "usd", "tiers_mode": "graduated",
             "tiers": [{"up_to": 1000, "unit_amount": "0.0125", "flat_amount": "5.00"},
                       {"up_to": "inf", "unit_amount": "0.01"}],
             "recurring": {"interval": "month"}}]}]}
    loaded = _loaded(data, ctx)
    converge(loaded, ctx)
    prices = {p["lookup_key"]: p for p in ctx.gateway.list_all("/v1/prices", {})}
    assert prices["calls_eur"]["unit_amount_decimal"] == "3.5"
    assert prices["calls_eur"]["unit_amount"] is None
    assert prices["calls_jpy"]["unit_amount_decimal"] == "2.5"
    assert not make_plan(loaded, ctx).changes


def test_a_lookup_key_on_a_price_it_does_not_manage_is_refused_until_imported(
        replica, ctx, converge) -> None:
    """The key already sits on another product's price that backs a live subscription:
    planning names it and what uses it instead of planning to deactivate it."""
    client = replica.client()
    legacy = client.v1.products.create(params={"name": "Legacy Pro"})
    price = client.v1.prices.create(params={
        "product": legacy.id, "currency": "eur", "unit_amount": 900,
        "recurring": {"interval": "month"}, "lookup_key": "t_monthly_eur"})
    customer = client.v1.customers.create(params={"email": "c@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    sub = client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}],
        "default_payment_method": pm.id})
    loaded = _loaded(_CATALOG, ctx)
    with pytest.raises(BlueprintInvalid) as err:
        make_plan(loaded, ctx)
    assert f"'t_monthly_eur' belongs to price {price.id} on product {legacy.id}" in str(err.value)
    assert f"1 active subscription(s), e.g. {sub.id}" in str(err.value)
    assert "imports:" in err.value.hint
    assert client.v1.prices.retrieve(price.id).active  # nothing was written

    adopted = _loaded({**_CATALOG, "imports": [{"id": price.id,
                                                "lookup_key": "t_monthly_eur"}]}, ctx)
    plan = make_plan(adopted, ctx)
    assert ("price:t_monthly_eur", "replace") in [(i.key, i.action) for i in plan.items]


def test_an_existing_product_it_does_not_manage_is_refused_until_imported(replica, ctx) -> None:
    replica.client().v1.products.create(params={"id": "prod_fde_test", "name": "Theirs"})
    with pytest.raises(BlueprintInvalid, match="prod_fde_test already exists"):
        make_plan(_loaded(_CATALOG, ctx), ctx)
    plan = make_plan(_loaded({**_CATALOG, "imports": [{"id": "prod_fde_test"}]}, ctx), ctx)
    assert ("product:prod_fde_test", "update") in [(i.key, i.action) for i in plan.items]
