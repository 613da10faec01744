"""Subscription items (``si_``): one price × quantity inside a subscription.

Items live twice: embedded in ``subscription.items.data`` (what Stripe answers) and as
their own objects so ``GET /v1/subscription_items/{id}`` and ``?subscription=`` work;
`save_all` keeps the two in step. Each item carries the subscription's current period
(``current_period_start/end``, where API 2025+ put it) and the legacy ``plan`` view of its
price. Writes (``POST/DELETE /v1/subscription_items``) are subscription updates: they go
through `subscription_changes` (prorations) and emit ``customer.subscription.updated``.
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError, missing_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec

SPEC = ResourceSpec(
    object="subscription_item",
    path="/v1/subscription_items",
    defaults={"billing_thresholds": None, "discounts": [], "tax_rates": [], "metadata": {}},
    fields=frozenset(),
    filters={"subscription": "subscription"},
    operations=frozenset({"list", "retrieve"}),
    events=frozenset(),
)
_WRITE = frozenset({"price", "quantity", "metadata", "proration_behavior", "proration_date",
                    "payment_behavior", "price_data", "discounts", "tax_rates", "off_session",
                    "billing_thresholds"})


def plan_of(price: Obj) -> Obj:
    rec = price.get("recurring") or {}
    return {
        "active": price.get("active", True), "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"),
        "billing_scheme": price.get("billing_scheme"), "created": price.get("created"),
        "currency": price.get("currency"), "id": price["id"],
        "interval": rec.get("interval"), "interval_count": rec.get("interval_count"),
        "livemode": False, "metadata": price.get("metadata") or {}, "meter": rec.get("meter"),
        "nickname": price.get("nickname"), "object": "plan", "product": price.get("product"),
        "tiers_mode": price.get("tiers_mode"), "transform_usage": price.get("transform_quantity"),
        "trial_period_days": rec.get("trial_period_days"),
        "usage_type": rec.get("usage_type") or "licensed",
    }


def is_metered(price: Obj) -> bool:
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def recurring_price(ctx: Ctx, price_id: str, *, param: str = "items[0][price]") -> Obj:
    price = ctx.get(price_id, "price", param=param)
    if not price.get("recurring"):
        raise ApiError(400, f"The price specified ({price_id}) is a one-time price; a "
                       "subscription needs recurring prices.", param=param)
    if not price.get("active", True):
        raise ApiError(400, f"The price specified ({price_id}) is inactive.", param=param)
    return price


def build(ctx: Ctx, sub_id: str, price: Obj, quantity: int | None, metadata: dict | None,
          period: tuple[int, int]) -> Obj:
    item = ctx.new_object(SPEC.object)
    set_price(item, price, quantity)
    item.update(subscription=sub_id, metadata=metadata or {}, current_period_start=period[0],
                current_period_end=period[1])
    return item


def set_price(item: Obj, price: Obj, quantity: int | None) -> None:
    item["price"] = public(price)
    item["plan"] = plan_of(price)
    item["quantity"] = None if is_metered(price) else (1 if quantity is None else quantity)


def items_of(sub: Obj) -> list[Obj]:
    return sub["items"]["data"]


def set_items(sub: Obj, items: list[Obj]) -> None:
    sub["items"] = {"object": "list", "data": items, "has_more": False,
                    "url": f"/v1/subscription_items?subscription={sub['id']}"}


def save_all(ctx: Ctx, sub: Obj, *, removed: list[Obj] | None = None) -> None:
    """Store the subscription and each of its items; tombstone removed items."""
    for item in items_of(sub):
        if ctx.engine.store.get(ctx.account, item["id"]) is None:
            ctx.insert(item)
        else:
            ctx.replace(item)
    for item in removed or []:
        ctx.engine.store.tombstone(ctx.account, item["id"], {
            "id": item["id"], "object": SPEC.object, "deleted": True})
    ctx.replace(sub)


def _update_subscription(ctx: Ctx, sub_id: str, entry: Obj, params: Params) -> Obj:
    from sandbox.replica.resources import subscriptions

    update = {"items": [entry]}
    for name in ("proration_behavior", "proration_date", "payment_behavior", "off_session"):
        if name in params:
            update[name] = params[name]
    return subscriptions.update(ctx, update, sub_id)


def create(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, _WRITE | {"subscription"}, ("subscription",))
    if not params.get("price"):
        raise missing_param("price")
    entry = {k: params[k] for k in ("price", "quantity", "metadata") if k in params}
    sub = _update_subscription(ctx, params["subscription"], entry, params)
    return public(items_of(sub)[-1])


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, _WRITE)
    item = crud.load(ctx, SPEC, id)
    entry = {"id": id, **{k: params[k] for k in ("price", "quantity", "metadata")
                          if k in params}}
    if "quantity" in entry:
        entry["quantity"] = as_int(params, "quantity")
    sub = _update_subscription(ctx, item["subscription"], entry, params)
    return next(i for i in items_of(sub) if i["id"] == id)


def delete(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"proration_behavior", "proration_date", "clear_usage",
                                         "payment_behavior"}))
    item = crud.load(ctx, SPEC, id)
    _update_subscription(ctx, item["subscription"], {"id": id, "deleted": "true"}, params)
    return {"id": id, "object": SPEC.object, "deleted": True}


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("DELETE", SPEC.path + "/{id}", delete)
