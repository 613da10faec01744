"""Changing a subscription's items, and the prorations that follow.

``items[]`` entries: ``{id, price?, quantity?, metadata?, deleted?}`` changes an item,
``{price, quantity?}`` adds one. For each licensed item whose cost per period changes
during a paid period, Stripe credits the unused time of the old cost and charges the
remaining time of the new one, prorated by the second from ``proration_date`` (default:
now) to the period end:

    unused    = -round(old_amount × remaining / period_length)
    remaining = +round(new_amount × remaining / period_length)       (half away from zero)

``proration_behavior``: ``create_prorations`` (default; pending invoice items for the next
invoice), ``always_invoice`` (invoiced now), ``none``. Trials and metered items are not
prorated. `plan_changes` is pure so ``create_preview`` can show the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.registry import Obj
from sandbox.replica.resources import invoiceitems, subscription_items
from sandbox.replica.resources.billing_periods import human_date, recurring_of
from sandbox.replica.resources.billing_pricing import line_amount, prorate
from sandbox.replica.resources.subscription_items import is_metered, items_of
from sandbox.replica.templates import apply_metadata

BEHAVIORS = ("create_prorations", "always_invoice", "none")


@dataclass
class Proration:
    amount: int
    description: str
    price: Obj
    quantity: int
    item_id: str
    period: tuple[int, int]
    credit: bool = False  # unused time given back (kept when the period restarts)


@dataclass
class Plan:
    items: list[Obj]  # the subscription's items after the change
    removed: list[Obj]
    prorations: list[Proration]
    restart: bool = False  # the billing interval changed: a new period starts now


def behavior(params: Obj) -> str:
    value = params.get("proration_behavior") or "create_prorations"
    if value not in BEHAVIORS:
        raise invalid_param("proration_behavior", "Invalid proration_behavior: must be one of "
                            "create_prorations, always_invoice, or none")
    return value


def _name(ctx: Ctx, price: Obj) -> str:
    product = ctx.find(price.get("product") or "") or {}
    return product.get("name") or price["id"]


def plan_changes(ctx: Ctx, sub: Obj, entries: list[Obj], *, when: int,
                 prorations: bool = True) -> Plan:
    """The items after `entries` apply, and the prorations they cause (nothing written)."""
    current = {i["id"]: i for i in items_of(sub)}
    period = (sub["_period"][0], sub["_period"][1])
    items, removed, out = [dict(i) for i in items_of(sub)], [], []
    index = {i["id"]: n for n, i in enumerate(items)}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise invalid_param(f"items[{n}]", "Invalid items entry")
        old = current.get(entry.get("id") or "")
        if entry.get("id") and old is None:
            raise ApiError(404, f"No such subscription item: '{entry['id']}'",
                           code="resource_missing", param=f"items[{n}][id]")
        if old is not None and as_bool(entry, "deleted", default=False):
            items = [i for i in items if i["id"] != old["id"]]
            removed.append(old)
            out += _credit(ctx, old, period, when)
            continue
        if old is None and not entry.get("price"):
            raise missing_param(f"items[{n}][price]")
        price = subscription_items.recurring_price(
            ctx, entry.get("price") or old["price"]["id"], param=f"items[{n}][price]")
        if price["currency"] != sub["currency"]:
            raise invalid_param(f"items[{n}][price]", "Currency of all prices on a "
                                "subscription must match.")
        qty = as_int(entry, "quantity", default=None)
        if old is None:
            item = subscription_items.build(ctx, sub["id"], price, qty, entry.get("metadata"),
                                            period)
            items.append(item)
            out += _debit(ctx, item, period, when)
            continue
        item = items[index[old["id"]]] if old["id"] in index else dict(old)
        new_qty = qty if qty is not None else old.get("quantity")
        subscription_items.set_price(item, price, new_qty)
        if entry.get("metadata") is not None:
            item["metadata"] = apply_metadata(item.get("metadata"), entry["metadata"])
        if (old["price"]["id"], old.get("quantity")) != (price["id"], item.get("quantity")):
            out += _credit(ctx, old, period, when) + _debit(ctx, item, period, when)
        items = [item if i["id"] == item["id"] else i for i in items]
    if not items:
        raise invalid_param("items", "A subscription must keep at least one item.")
    if len({recurring_of(i["price"]) for i in items}) > 1:
        raise ApiError(400, "Currency and interval fields must match across all plans on "
                       "this subscription.", param="items")
    restart = recurring_of(items[0]["price"]) != recurring_of(items_of(sub)[0]["price"])
    if restart:  # Stripe bills the new interval in full from now; only credits remain
        out = [p for p in out if p.credit]
    if not prorations or sub["status"] == "trialing" or when >= period[1]:
        out = []
    return Plan(items, removed, out, restart and sub["status"] != "trialing")


def unused_credits(ctx: Ctx, sub: Obj, *, when: int) -> list[Proration]:
    """Credits for the unused rest of the period of every item (cancel with prorate)."""
    period = (sub["_period"][0], sub["_period"][1])
    if sub["status"] == "trialing" or when >= period[1]:
        return []
    return [p for item in items_of(sub) for p in _credit(ctx, item, period, when)]


def _amounts(ctx: Ctx, item: Obj, period: tuple[int, int], when: int) -> tuple[int, int] | None:
    if is_metered(item["price"]):
        return None
    full = line_amount(ctx, item["price"], int(item.get("quantity") or 0))
    return full, period[1] - max(when, period[0])


def _credit(ctx: Ctx, item: Obj, period: tuple[int, int], when: int) -> list[Proration]:
    got = _amounts(ctx, item, period, when)
    if got is None:
        return []
    full, remaining = got
    amount = -prorate(full, remaining, period[1] - period[0])
    text = (f"Unused time on {item.get('quantity')} × {_name(ctx, item['price'])} after "
            f"{human_date(when)}")
    return [Proration(amount, text, item["price"], int(item.get("quantity") or 0), item["id"],
                      (max(when, period[0]), period[1]), credit=True)]


def _debit(ctx: Ctx, item: Obj, period: tuple[int, int], when: int) -> list[Proration]:
    got = _amounts(ctx, item, period, when)
    if got is None:
        return []
    full, remaining = got
    amount = prorate(full, remaining, period[1] - period[0])
    text = (f"Remaining time on {item.get('quantity')} × {_name(ctx, item['price'])} after "
            f"{human_date(when)}")
    return [Proration(amount, text, item["price"], int(item.get("quantity") or 0), item["id"],
                      (max(when, period[0]), period[1]))]


def write_prorations(ctx: Ctx, sub: Obj, prorations: list[Proration]) -> list[Obj]:
    """Pending invoice items (``proration: true``) for the subscription's next invoice."""
    return [
        invoiceitems.new_item(
            ctx, customer=sub["customer"], amount=p.amount, currency=sub["currency"],
            description=p.description, period=p.period, price=p.price, quantity=p.quantity,
            subscription=sub["id"], subscription_item=p.item_id, proration=True,
        )
        for p in prorations if p.amount
    ]


def proration_lines(ctx: Ctx, sub: Obj, prorations: list[Proration]) -> list[Obj]:
    """The same prorations as invoice lines (for previews; nothing stored)."""
    from sandbox.replica.resources import invoice_lines

    lines = []
    for p in prorations:
        item = {"id": None, "amount": p.amount, "currency": sub["currency"],
                "description": p.description, "discountable": False, "metadata": {},
                "period": {"start": p.period[0], "end": p.period[1]}, "quantity": p.quantity,
                "proration": True, "parent": {"type": "subscription_details",
                                              "subscription_details": {
                                                  "subscription": sub["id"],
                                                  "subscription_item": p.item_id}},
                "pricing": {"type": "price_details", "price_details": {
                    "price": p.price["id"], "product": p.price.get("product")},
                    "unit_amount_decimal": p.price.get("unit_amount_decimal")}}
        lines.append(invoice_lines.from_invoice_item(ctx, item, None))
    return lines


def apply_fields(ctx: Ctx, sub: Obj, params: Obj) -> None:
    """Everything but items: metadata, cancellation, pause_collection, trial_end=now …"""
    if "metadata" in params:
        sub["metadata"] = apply_metadata(sub.get("metadata"), params["metadata"])
    for name in ("description", "default_payment_method"):
        if name in params:
            sub[name] = params[name] or None
    if "cancel_at_period_end" in params:
        sub["cancel_at_period_end"] = bool(as_bool(params, "cancel_at_period_end"))
        sub["cancel_at"] = sub["_period"][1] if sub["cancel_at_period_end"] else None
        sub["canceled_at"] = ctx.now() if sub["cancel_at_period_end"] else None
    if "cancel_at" in params:
        sub["cancel_at"] = as_int(params, "cancel_at")
    if params.get("cancellation_details"):
        sub["cancellation_details"] = {**sub["cancellation_details"],
                                       **params["cancellation_details"]}
    if params.get("collection_method"):
        sub["collection_method"] = params["collection_method"]
    if "days_until_due" in params:
        sub["days_until_due"] = as_int(params, "days_until_due")
    if "pause_collection" in params:
        pause = params["pause_collection"]
        if pause and pause.get("behavior") not in ("keep_as_draft", "mark_uncollectible",
                                                   "void"):
            raise invalid_param("pause_collection[behavior]", "Invalid behavior: must be one "
                                "of keep_as_draft, mark_uncollectible, or void")
        sub["pause_collection"] = {"behavior": pause["behavior"], "resumes_at": as_int(
            pause, "resumes_at")} if pause else None
    if params.get("trial_end") == "now" and sub["status"] == "trialing":
        sub["_end_trial_now"] = True
    elif params.get("trial_end") not in (None, "", "now") and sub["status"] == "trialing":
        end = as_int(params, "trial_end")  # extend or shorten the trial
        sub["trial_end"] = sub["_anchor"] = sub["billing_cycle_anchor"] = end
        sub["_period"][1] = end
        for item in items_of(sub):
            item["current_period_end"] = end
    if (params.get("trial_settings") or {}).get("end_behavior"):
        sub["trial_settings"] = {"end_behavior": {"missing_payment_method": params[
            "trial_settings"]["end_behavior"].get("missing_payment_method")}}
