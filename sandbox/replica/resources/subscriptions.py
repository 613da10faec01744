"""Subscriptions: create (first invoice paid through the payments module), update
(items with prorations, cancel_at_period_end, pause_collection…), cancel, resume.

Creating one for a customer with a card bills its first invoice at once, in Stripe's
order: ``customer.subscription.created`` (incomplete) → ``invoice.created`` →
``invoice.finalized`` → payment intent / charge events → ``invoice.paid`` →
``invoice.payment_succeeded`` → ``customer.subscription.updated`` (active).
``payment_behavior``: ``allow_incomplete`` (default: stays ``incomplete`` when the payment
fails), ``default_incomplete`` (no attempt; the client confirms), ``error_if_incomplete``
(402 and nothing is created). Time-based transitions live in `subscription_cycle`;
status rules in `subscription_state`. `create_subscription` is what checkout calls.
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import (
    invoice_actions,
    invoiceitems,
    invoices,
    subscription_changes,
    subscription_cycle,
    subscription_invoices,
    subscription_items,
    subscription_state,
    tax_rates,
)
from sandbox.replica.resources.billing_periods import DAY, recurring_of, shift
from sandbox.replica.resources.billing_pricing import line_amount
from sandbox.replica.templates import apply_metadata

_STATUSES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled",
             "unpaid", "paused")
_COMMON = frozenset({
    "items", "metadata", "description", "default_payment_method", "collection_method",
    "days_until_due", "cancel_at_period_end", "cancel_at", "proration_behavior",
    "payment_behavior", "trial_end", "trial_settings", "off_session", "add_invoice_items",
    "payment_settings", "automatic_tax", "default_tax_rates", "discounts", "invoice_settings",
    "pending_invoice_item_interval", "on_behalf_of", "transfer_data", "billing_thresholds",
    "application_fee_percent", "default_source", "trial_from_plan", "billing_mode",
})
CREATE_PARAMS = _COMMON | {"customer", "currency", "trial_period_days", "billing_cycle_anchor",
                           "backdate_start_date", "customer_account", "billing_cycle_anchor_config"}
UPDATE_PARAMS = _COMMON | {"pause_collection", "proration_date", "cancellation_details",
                           "billing_cycle_anchor"}

SPEC = ResourceSpec(
    object="subscription",
    path="/v1/subscriptions",
    defaults={
        "application": None, "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor_config": None, "cancel_at": None, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "cancel_at_period_end": False, "days_until_due": None, "default_payment_method": None,
        "description": None, "discounts": [], "ended_at": None, "latest_invoice": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "next_pending_invoice_item_invoice": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "transfer_data": None, "trial_end": None,
        "trial_start": None, "billing_thresholds": None, "metadata": {},
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "billing_mode": {"type": "classic", "flexible": None}, "customer_account": None,
        "managed_payments": {"enabled": False}, "billing_schedules": [], "test_clock": None,
    },
    fields=frozenset(),
    filters={"customer": "customer", "status": "status",
             "collection_method": "collection_method"},
    operations=frozenset({"retrieve"}),
)


def _trial_end(ctx: Ctx, params: Params, prices: list[Obj]) -> int | None:
    now = ctx.now()
    if params.get("trial_end") == "now":
        return None
    if params.get("trial_end") not in (None, ""):
        end = as_int(params, "trial_end")
        if end <= now:
            raise invalid_param("trial_end", "Invalid timestamp: must be in the future")
        return end
    days = as_int(params, "trial_period_days")
    if days is None and as_bool(params, "trial_from_plan", default=False):
        days = max((p["recurring"].get("trial_period_days") or 0 for p in prices), default=0)
    return now + days * DAY if days else None


def _items_params(params: Params) -> list[Obj]:
    raw = params.get("items")
    if isinstance(raw, dict):
        raw = list(raw.values())
    if not raw:
        raise missing_param("items")
    return raw


def create_subscription(ctx: Ctx, params: Params) -> Obj:
    """Create a subscription and bill its first invoice (used by checkout too)."""
    crud.check_params(params, CREATE_PARAMS, ("customer",))
    customer = ctx.get(params["customer"], "customer", param="customer")
    entries = _items_params(params)
    prices = [subscription_items.recurring_price(ctx, str(e.get("price") or ""),
                                                 param=f"items[{n}][price]")
              for n, e in enumerate(entries)]
    currency = prices[0]["currency"]
    if any(p["currency"] != currency or recurring_of(p) != recurring_of(prices[0])
           for p in prices):
        raise ApiError(400, "Currency and interval fields must match across all plans on "
                       "this subscription.", param="items")
    method = params.get("collection_method") or "charge_automatically"
    if method not in ("charge_automatically", "send_invoice"):
        raise invalid_param("collection_method", "Invalid collection_method")
    days_due = as_int(params, "days_until_due")
    if method == "send_invoice" and days_due is None:
        raise missing_param("days_until_due")
    behavior = params.get("payment_behavior") or "allow_incomplete"
    now, trial_end = ctx.now(), _trial_end(ctx, params, prices)
    interval, count = recurring_of(prices[0])
    anchor = trial_end or as_int(params, "billing_cycle_anchor") or now
    if anchor <= now:
        anchor = now
    # A future anchor starts with a stub period up to it, prorated unless told otherwise.
    period = (now, anchor) if anchor > now else (now, shift(now, interval, count, 1))
    stub = (shift(anchor, interval, count, -1), anchor) if anchor > now and not trial_end \
        else None
    charge_stub = stub is not None and params.get("proration_behavior") != "none"
    sub = ctx.new_object(SPEC.object)
    sub.update(
        customer=customer["id"], currency=currency, collection_method=method,
        days_until_due=days_due if method == "send_invoice" else None,
        default_payment_method=params.get("default_payment_method") or None,
        description=params.get("description") or None,
        metadata=apply_metadata({}, params.get("metadata")), billing_cycle_anchor=anchor,
        start_date=now, status="trialing" if trial_end else "incomplete",
        trial_start=now if trial_end else None, trial_end=trial_end,
        cancel_at_period_end=bool(as_bool(params, "cancel_at_period_end", default=False)),
        cancel_at=as_int(params, "cancel_at"),
        default_tax_rates=tax_rates.resolve(ctx, params.get("default_tax_rates"),
                                            param="default_tax_rates"),
    )
    if (params.get("trial_settings") or {}).get("end_behavior"):
        sub["trial_settings"] = {"end_behavior": {"missing_payment_method": params[
            "trial_settings"]["end_behavior"].get("missing_payment_method") or "create_invoice"}}
    sub["_period"], sub["_anchor"] = list(period), anchor
    subscription_items.set_items(sub, [
        subscription_items.build(ctx, sub["id"], price, as_int(e, "quantity"), e.get("metadata"),
                                 period) for e, price in zip(entries, prices, strict=True)])
    _index_prices(sub)
    free = method == "send_invoice" or trial_end is not None
    if free:
        sub["status"] = "trialing" if trial_end else "active"
    invoice = subscription_invoices.draft(
        ctx, sub, billing_reason="subscription_create", period=(now, now),
        advance=period if stub is None or charge_stub else None, arrears=None,
        trial=trial_end is not None, stub=stub if charge_stub else None)
    for n, extra in enumerate(params.get("add_invoice_items") or []):
        item = _add_invoice_item(ctx, sub, extra, n, invoice["id"])
        invoiceitems.attach(ctx, invoice, [item])
    attempt = behavior != "default_incomplete" or method == "send_invoice"
    if attempt and method == "charge_automatically" and invoice["total"] > 0 and not (
            sub["default_payment_method"] or (customer.get("invoice_settings") or {}).get(
                "default_payment_method")):
        raise ApiError(400, "This customer has no attached payment source or default payment "
                       "method. Please consider adding a default payment method.",
                       param="default_payment_method")
    sub["latest_invoice"] = invoice["id"]
    customer["currency"] = customer.get("currency") or currency
    ctx.replace(customer)
    ctx.insert(sub)
    subscription_items.save_all(ctx, sub)
    ctx.emit("customer.subscription.created", sub)
    invoices.store_new(ctx, invoice)
    invoice = invoice_actions.finalize(ctx, invoice, advance=attempt)
    sub = ctx.get(sub["id"], "subscription")
    if invoice["status"] == "paid" and sub["status"] == "incomplete":
        sub = subscription_state.set_status(ctx, sub, "active")
    if behavior == "error_if_incomplete" and sub["status"] == "incomplete":
        raise ApiError(402, "The payment for this subscription's first invoice failed.",
                       type="card_error", code="card_declined")
    subscription_cycle.plan(ctx, sub)
    return ctx.get(sub["id"], "subscription")


def _add_invoice_item(ctx: Ctx, sub: Obj, extra: Obj, n: int, invoice_id: str) -> Obj:
    price = ctx.get(str(extra.get("price") or ""), "price",
                    param=f"add_invoice_items[{n}][price]")
    qty = as_int(extra, "quantity", default=1) or 1
    now = ctx.now()
    product = ctx.find(price.get("product") or "") or {}
    return invoiceitems.new_item(
        ctx, customer=sub["customer"], amount=line_amount(ctx, price, qty),
        currency=sub["currency"],
        description=product.get("name"), period=(now, now), price=price, quantity=qty,
        subscription=sub["id"], invoice=invoice_id)


def _index_prices(sub: Obj) -> None:
    sub["_prices"] = ",".join(i["price"]["id"] for i in subscription_items.items_of(sub))


def load(ctx: Ctx, id: str) -> Obj:
    return crud.load(ctx, SPEC, id)


def create(ctx: Ctx, params: Params) -> Obj:
    return create_subscription(ctx, params)


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, UPDATE_PARAMS)
    sub = load(ctx, id)
    if sub["status"] in ("canceled", "incomplete_expired") and \
            set(params) - {"metadata", "cancellation_details", "expand"}:
        raise ApiError(400, "A canceled subscription can only update its cancellation_details "
                       "and metadata.")
    before = copy.deepcopy(sub)
    how = subscription_changes.behavior(params)
    when = as_int(params, "proration_date") or ctx.now()
    plan = None
    if params.get("items"):
        plan = subscription_changes.plan_changes(ctx, sub, _items_params(params), when=when,
                                                 prorations=how != "none")
        subscription_items.set_items(sub, plan.items)
        _index_prices(sub)
    subscription_changes.apply_fields(ctx, sub, params)
    subscription_items.save_all(ctx, sub, removed=plan.removed if plan else None)
    changed = crud.diff(public(before), public(sub))
    if changed:
        ctx.emit("customer.subscription.updated", sub, previous=changed)
    if plan and plan.prorations:
        subscription_changes.write_prorations(ctx, sub, plan.prorations)
    restart = (plan is not None and plan.restart) or params.get("billing_cycle_anchor") == "now"
    if restart and sub["status"] in ("active", "past_due"):
        subscription_cycle.restart(ctx, ctx.get(id, "subscription"),
                                   billing_reason="subscription_update", arrears=True)
    elif how == "always_invoice" and plan is not None:
        subscription_invoices.always_invoice(ctx, ctx.get(id, "subscription"))
    subscription_cycle.plan(ctx, ctx.get(id, "subscription"), changed=set(changed))
    return ctx.get(id, "subscription")


def cancel(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"cancellation_details", "invoice_now", "prorate"}))
    sub = load(ctx, id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise ApiError(400, f"This subscription has already been canceled ({id}).")
    if as_bool(params, "prorate", default=False):
        credits = subscription_changes.unused_credits(ctx, sub, when=ctx.now())
        subscription_changes.write_prorations(ctx, sub, credits)
    details = params.get("cancellation_details") or {}
    sub = subscription_state.cancel(ctx, sub, reason="cancellation_requested",
                                    comment=details.get("comment") or None,
                                    feedback=details.get("feedback") or None)
    if as_bool(params, "invoice_now", default=False):
        subscription_cycle.final_invoice(ctx, sub)
    return ctx.get(id, "subscription")


def resume(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"billing_cycle_anchor", "proration_behavior",
                                         "proration_date"}))
    sub = load(ctx, id)
    if sub["status"] != "paused":
        raise ApiError(400, "Only paused subscriptions can be resumed.")
    return subscription_cycle.resume(ctx, sub)


def list_subscriptions(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, frozenset({"limit", "starting_after", "ending_before", "created",
                                         "customer", "status", "price", "collection_method",
                                         "current_period_start", "current_period_end",
                                         "test_clock", "automatic_tax", "customer_account"}))
    status = params.get("status")
    query = parse_page_query({k: v for k, v in params.items() if k != "status"},
                             filters={"customer": "customer",
                                      "collection_method": "collection_method"})
    query.types = [SPEC.object]
    if status in (None, ""):
        query.filters["status"] = [s for s in _STATUSES if s != "canceled"]
    elif status == "ended":
        query.filters["status"] = ["canceled", "incomplete_expired"]
    elif status != "all":
        if status not in _STATUSES:
            raise invalid_param("status", f"Invalid status: {status}")
        query.filters["status"] = status
    if not params.get("price"):
        return list_object(SPEC.path, ctx.engine.store.list(ctx.account, query))
    wanted, query.limit = query.limit, 100  # price lives inside items: filter here
    page = ctx.engine.store.list(ctx.account, query)
    page.data = [s for s in page.data if params["price"] in s.get("_prices", "").split(",")]
    page.has_more = page.has_more or len(page.data) > wanted
    page.data = page.data[:wanted]
    return list_object(SPEC.path, page)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("GET", SPEC.path, list_subscriptions)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("DELETE", SPEC.path + "/{id}", cancel)
    reg.route("POST", SPEC.path + "/{id}/resume", resume)
