"""Prices: one-time or recurring, inline ``product_data``, unique ``lookup_key`` (moved with
``transfer_lookup_key=true``), list filters incl. ``lookup_keys[]``. Not deletable (Stripe).

Tiered prices (``billing_scheme=tiered`` with ``tiers_mode`` and ``tiers``) keep their tiers
in the private ``_tiers`` field: Stripe only returns ``tiers`` when expanded, and invoices
price them through `billing_pricing`."""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.listing import PageQuery
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({
    "active", "billing_scheme", "currency", "custom_unit_amount", "lookup_key", "metadata",
    "nickname", "tax_behavior", "tiers_mode", "transform_quantity", "unit_amount",
    "unit_amount_decimal",
})
_INTERVALS = ("day", "week", "month", "year")


def _recurring(params: Params) -> Obj | None:
    raw = params.get("recurring")
    if not raw:
        return None
    if raw.get("interval") not in _INTERVALS:
        raise invalid_param("recurring[interval]", "Invalid recurring[interval]: must be one "
                            "of day, week, month, or year")
    return {
        "interval": raw["interval"],
        "interval_count": as_int(raw, "interval_count", default=1),
        "meter": raw.get("meter") or None,
        "usage_type": raw.get("usage_type") or "licensed",
        "trial_period_days": as_int(raw, "trial_period_days"),
    }


def _claim_lookup_key(ctx: Ctx, obj: Obj, params: Params) -> None:
    key = obj.get("lookup_key")
    if not key:
        return
    query = PageQuery(limit=2, types=["price"], filters={"lookup_key": key})
    for other in ctx.engine.store.list(ctx.account, query).data:
        if other["id"] == obj["id"]:
            continue
        if not as_bool(params, "transfer_lookup_key", default=False):
            raise ApiError(
                400, f"A price (`{other['id']}`) already uses that lookup key.",
                param="lookup_key",
            )
        before = dict(other)
        other["lookup_key"] = None
        ctx.replace(other)
        ctx.emit("price.updated", other, previous={"lookup_key": before["lookup_key"]})


def _tiers(params: Params) -> list[Obj]:
    raw = params.get("tiers")
    if params.get("tiers_mode") not in ("graduated", "volume"):
        raise invalid_param("tiers_mode", "Tiered prices need tiers_mode graduated or volume")
    if not isinstance(raw, list) or not raw:
        raise missing_param("tiers")
    tiers: list[Obj] = []
    for i, tier in enumerate(raw):
        up_to = tier.get("up_to") if isinstance(tier, dict) else None
        last = i == len(raw) - 1
        if (up_to == "inf") != last:
            raise invalid_param(f"tiers[{i}][up_to]", "Only the last tier has up_to=inf")
        unit, flat = as_int(tier, "unit_amount"), as_int(tier, "flat_amount")
        if unit is None and tier.get("unit_amount_decimal") is None and flat is None:
            raise missing_param(f"tiers[{i}][unit_amount]")
        tiers.append({
            "flat_amount": flat, "flat_amount_decimal": None if flat is None else str(flat),
            "unit_amount": unit,
            "unit_amount_decimal": tier.get("unit_amount_decimal")
            or (None if unit is None else str(unit)),
            "up_to": None if last else as_int(tier, "up_to"),
        })
    return tiers


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if creating:
        if params.get("product_data"):
            from sandbox.replica.resources import products

            obj["product"] = products.create(ctx, params["product_data"])["id"]
        elif params.get("product"):
            obj["product"] = ctx.get(params["product"], "product", param="product")["id"]
        else:
            raise missing_param("product")
        obj["currency"] = str(obj["currency"]).lower()
        obj["recurring"] = _recurring(params)
        obj["type"] = "recurring" if obj["recurring"] else "one_time"
        if obj.get("unit_amount") is not None:
            if not isinstance(obj["unit_amount"], int) or obj["unit_amount"] < 0:
                raise invalid_param("unit_amount", "Invalid non-negative integer")
            obj["unit_amount_decimal"] = str(obj["unit_amount"])
        elif obj.get("unit_amount_decimal") is not None:
            obj["unit_amount"] = None
        elif obj["billing_scheme"] == "tiered":
            obj["_tiers"] = _tiers(params)
        elif obj.get("custom_unit_amount") is None:
            raise missing_param("unit_amount")
    _claim_lookup_key(ctx, obj, params)


SPEC = ResourceSpec(
    object="price",
    path="/v1/prices",
    defaults={"custom_unit_amount": None, "transform_quantity": None, "unit_amount": None,
              "unit_amount_decimal": None, "recurring": None},
    fields=_WRITABLE,
    create_params=_WRITABLE | {"product", "product_data", "recurring", "transfer_lookup_key",
                               "currency_options", "tiers"},
    update_params=frozenset({"active", "lookup_key", "metadata", "nickname", "tax_behavior",
                             "transfer_lookup_key", "currency_options"}),
    required=("currency",),
    filters={
        "active": "active", "currency": "currency", "product": "product", "type": "type",
        "lookup_keys[]": "lookup_key", "recurring.interval": "recurring.interval",
        "recurring.usage_type": "recurring.usage_type", "recurring.meter": "recurring.meter",
    },
    prepare=_prepare,
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)

