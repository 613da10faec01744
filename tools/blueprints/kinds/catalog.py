"""Catalog: products by their stable id, prices by lookup key.

A price whose immutable fields differ is replaced: a new price takes the lookup key over
(``transfer_lookup_key``) and the old one is deactivated, both in one plan item. Products
and prices this blueprint created carry ``metadata.fde_blueprint``; ones that left the file
are deactivated, anything else on the account is left alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tools.blueprints.context import BlueprintContext
from tools.blueprints.errors import BlueprintInvalid
from tools.blueprints.plan import Desired, Observed, PlanItem, Write, diff
from tools.blueprints.spec_catalog import CatalogBlueprint, PriceSpec, ProductSpec, minor_value

__all__ = ["plan_catalog"]

_PRICE_IMMUTABLE = frozenset({"product", "currency", "unit_amount", "billing_scheme",
                              "tiers_mode", "tiers", "interval", "interval_count", "usage_type",
                              "meter"})


def _product_desired(bp: CatalogBlueprint, p: ProductSpec) -> Desired:
    return Desired(key=f"product:{p.id}", object="product", fields={
        "name": p.name, "description": p.description, "active": True,
        "metadata.fde_blueprint": bp.name})


def _product_observed(obj: dict[str, Any], name: str) -> Observed:
    meta = obj.get("metadata") or {}
    return Observed(key=f"product:{obj['id']}", object="product", id=obj["id"],
                    managed=meta.get("fde_blueprint") == name, fields={
                        "name": obj.get("name"), "description": obj.get("description") or None,
                        "active": obj.get("active"),
                        "metadata.fde_blueprint": meta.get("fde_blueprint")})


def _price_desired(bp: CatalogBlueprint, prod: ProductSpec, p: PriceSpec,
                   meter_id: str | None) -> Desired:
    rec = p.recurring
    return Desired(key=f"price:{p.lookup_key}", object="price", immutable=_PRICE_IMMUTABLE,
                   fields={
                       "product": prod.id, "currency": p.currency, "unit_amount": p.unit_value(),
                       "billing_scheme": "tiered" if p.tiers else "per_unit",
                       "tiers_mode": p.tiers_mode, "tiers": p.tiers_fingerprint() or None,
                       "interval": rec.interval if rec else None,
                       "interval_count": rec.interval_count if rec else None,
                       "usage_type": rec.usage_type if rec else None, "meter": meter_id,
                       "nickname": p.nickname, "active": True,
                       "metadata.fde_blueprint": bp.name})


def _price_observed(obj: dict[str, Any], name: str) -> Observed:
    meta = obj.get("metadata") or {}
    rec = obj.get("recurring") or {}
    product = obj.get("product")
    return Observed(
        key=f"price:{obj.get('lookup_key') or obj['id']}", object="price", id=obj["id"],
        managed=meta.get("fde_blueprint") == name, fields={
            "product": product["id"] if isinstance(product, dict) else product,
            "currency": obj.get("currency"), "unit_amount": _unit_value(obj),
            "billing_scheme": obj.get("billing_scheme") or "per_unit",
            "tiers_mode": obj.get("tiers_mode"), "tiers": meta.get("fde_tiers") or None,
            "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
            "usage_type": rec.get("usage_type"), "meter": rec.get("meter"),
            "nickname": obj.get("nickname"), "active": obj.get("active"),
            "metadata.fde_blueprint": meta.get("fde_blueprint")})


def _unit_value(price: dict[str, Any]) -> int | str | None:
    """The price's per-unit amount in minor units, whichever field holds it."""
    if price.get("unit_amount") is not None:
        return int(price["unit_amount"])
    if price.get("unit_amount_decimal") not in (None, ""):
        return minor_value(Decimal(str(price["unit_amount_decimal"])))
    return None


def _price_create(bp: CatalogBlueprint, prod: ProductSpec, p: PriceSpec, meter_id: str | None,
                  *, transfer: bool) -> Write:
    params: dict[str, Any] = {"product": prod.id, "currency": p.currency,
                              "lookup_key": p.lookup_key,
                              "metadata": {"fde_blueprint": bp.name}}
    if p.tiers:
        params.update(billing_scheme="tiered", tiers_mode=p.tiers_mode, tiers=p.tier_rows())
        params["metadata"]["fde_tiers"] = p.tiers_fingerprint()
    else:
        params.update(p.unit_params())
    if p.recurring:
        rec: dict[str, Any] = {"interval": p.recurring.interval,
                               "interval_count": p.recurring.interval_count,
                               "usage_type": p.recurring.usage_type}
        if meter_id:
            rec["meter"] = meter_id
        params["recurring"] = rec
    if p.nickname:
        params["nickname"] = p.nickname
    if transfer:
        params["transfer_lookup_key"] = True
    return Write(path="/v1/prices", params=params)


def _meter_ids(ctx: BlueprintContext) -> dict[str, str]:
    try:
        meters = list(ctx.gateway.list_all("/v1/billing/meters", {"status": "active"}))
    except Exception:  # noqa: BLE001 - accounts (or emulators) without Billing meters
        return {}
    return {m["event_name"]: m["id"] for m in meters}


def plan_catalog(bp: CatalogBlueprint, ctx: BlueprintContext) -> list[PlanItem]:
    items: list[PlanItem] = []
    products = {p["id"]: p for p in ctx.gateway.list_all("/v1/products")}
    wanted = {p.id for p in bp.products}
    uses_prices = any(p.prices for p in bp.products)
    meters = _meter_ids(ctx) if any(pr.recurring and pr.recurring.meter
                                    for p in bp.products for pr in p.prices) else {}
    for pi, prod in enumerate(bp.products):
        want = _product_desired(bp, prod)
        have = _product_observed(products[prod.id], bp.name) if prod.id in products else None
        if have is not None and not have.managed and not bp.imported(prod.id):
            raise BlueprintInvalid(
                f"field 'products[{pi}].id': product {prod.id} already exists on the account "
                "and this blueprint does not manage it",
                hint=f"adopt it explicitly with `imports: [{{id: {prod.id}}}]`, or choose "
                     "another product id")
        action, changes = diff(want, have)
        writes: list[Write] = []
        if action == "create":
            params = {"id": prod.id, "name": prod.name, "metadata": {"fde_blueprint": bp.name}}
            if prod.description:
                params["description"] = prod.description
            writes = [Write(path="/v1/products", params=params)]
        elif action == "update":
            params = {c.field: c.after for c in changes if not c.field.startswith("metadata.")}
            if any(c.field == "metadata.fde_blueprint" for c in changes):
                params["metadata"] = {"fde_blueprint": bp.name}
            if params.get("description", "") is None:
                params["description"] = ""  # Stripe unsets a field with an empty string
            writes = [Write(path=f"/v1/products/{prod.id}", params=params)]
        items.append(PlanItem(key=want.key, object="product", action=action, target_id=prod.id,
                              changes=changes, writes=writes))
        observed_prices = _prices_of(ctx, prod.id, bp.name) if uses_prices else {}
        for qi, price in enumerate(prod.prices):
            meter_id = None
            if price.recurring and price.recurring.meter:
                meter_id = meters.get(price.recurring.meter)
                if meter_id is None:
                    raise BlueprintInvalid(
                        f"field 'products[{pi}].prices[{qi}].recurring.meter': no active meter "
                        f"with event_name {price.recurring.meter!r} on this account",
                        hint="apply the metering blueprint that defines it first")
            items.append(_price_item(ctx, bp, prod, price, meter_id, observed_prices))
        for key, obs in sorted(observed_prices.items()):
            if key not in {f"price:{p.lookup_key}" for p in prod.prices}:
                items.append(_retire(obs, f"/v1/prices/{obs.id}"))
    for pid, obj in sorted(products.items()):
        obs = _product_observed(obj, bp.name)
        if pid not in wanted and obs.managed:
            items.append(_retire(obs, f"/v1/products/{pid}"))
    return items


def _retire(obs: Observed, path: str) -> PlanItem:
    action, changes = diff(None, obs)
    writes = [Write(path=path, params={"active": False})] if action == "deactivate" else []
    return PlanItem(key=obs.key, object=obs.object, action=action, target_id=obs.id,
                    changes=changes, writes=writes, note="no longer in the blueprint")


def _prices_of(ctx: BlueprintContext, product: str, name: str) -> dict[str, Observed]:
    out: dict[str, Observed] = {}
    for obj in ctx.gateway.list_all("/v1/prices", {"product": product}):
        obs = _price_observed(obj, name)
        if obj.get("lookup_key") or obs.managed:
            out.setdefault(obs.key, obs)
    return out


def _refuse_takeover(ctx: BlueprintContext, price: PriceSpec, have: Observed) -> None:
    """A lookup key on a price this blueprint did not make: planning would move the key and
    deactivate that price under whatever uses it. Say what it is and what uses it."""
    subs = list(ctx.gateway.list_all("/v1/subscriptions",
                                     {"price": have.id, "status": "active"}, page_size=100))
    used = f"{len(subs)} active subscription(s), e.g. {subs[0]['id']}" if subs else \
        "no active subscription"
    raise BlueprintInvalid(
        f"lookup key {price.lookup_key!r} belongs to price {have.id} on product "
        f"{have.fields.get('product')}, which this blueprint does not manage ({used})",
        hint=f"adopt it explicitly with `imports: [{{id: {have.id}, lookup_key: "
             f"{price.lookup_key}}}]` (a changed amount then moves the key to a new price), "
             "or choose another lookup key")


def _price_item(ctx: BlueprintContext, bp: CatalogBlueprint, prod: ProductSpec, price: PriceSpec,
                meter_id: str | None, observed: dict[str, Observed]) -> PlanItem:
    want = _price_desired(bp, prod, price, meter_id)
    have = observed.pop(want.key, None)
    if have is None:  # the lookup key may sit on a price of another product
        found = list(ctx.gateway.list_all("/v1/prices", {"lookup_keys[]": price.lookup_key}))
        have = _price_observed(found[0], bp.name) if found else None
    if have is not None and not have.managed and not bp.imported(have.id, price.lookup_key):
        _refuse_takeover(ctx, price, have)
    action, changes = diff(want, have)
    writes: list[Write] = []
    if action in ("create", "replace"):
        writes = [_price_create(bp, prod, price, meter_id, transfer=action == "replace")]
        if have is not None and have.fields.get("active"):
            writes.append(Write(path=f"/v1/prices/{have.id}", params={"active": False}))
    elif action == "update" and have is not None:
        params: dict[str, Any] = {c.field: c.after for c in changes
                                  if not c.field.startswith("metadata.")}
        if any(c.field == "metadata.fde_blueprint" for c in changes):
            params["metadata"] = {"fde_blueprint": bp.name}
        writes = [Write(path=f"/v1/prices/{have.id}", params=params)]
    note = "prices are immutable: a new price takes the lookup key, the old one is " \
           "deactivated" if action == "replace" else ""
    return PlanItem(key=want.key, object="price", action=action,
                    target_id=have.id if have else None, changes=changes, writes=writes,
                    note=note)
