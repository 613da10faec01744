"""``POST /v1/invoices/create_preview``: the invoice a customer or subscription would get.

* ``subscription`` (+ ``subscription_details[items]``, ``proration_date``,
  ``proration_behavior``): the next renewal invoice — pending items, the prorations the
  change would create, then the next period with the changed items (metered usage so far in
  arrears). With ``always_invoice`` it is the immediate proration invoice instead.
* ``customer`` + ``subscription_details[items]``: the first invoice of a new subscription.
* ``customer`` alone: the customer's pending invoice items (+ ``invoice_items``).

Tax: ``subscription_details[default_tax_rates]`` (else the subscription's own
``default_tax_rates``) adds exclusive tax per line (`tax_rates.apply_taxes`).

Nothing is stored; the answer is an ``invoice`` with ``id`` ``upcoming_…``, status
``draft``, the customer's balance applied as finalisation would.
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError, missing_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry
from sandbox.replica.resources import (
    invoice_lines,
    invoiceitems,
    invoices,
    subscription_changes,
    subscription_invoices,
    subscription_items,
    tax_rates,
)
from sandbox.replica.resources.billing_periods import next_period, recurring_of, shift
from sandbox.replica.resources.billing_pricing import line_amount

_PARAMS = frozenset({"customer", "subscription", "subscription_details", "invoice_items",
                     "currency", "preview_mode", "schedule", "schedule_details",
                     "automatic_tax", "customer_details", "discounts", "issuer",
                     "on_behalf_of", "customer_account"})


def _extra_lines(ctx: Ctx, params: Params, currency: str) -> list[Obj]:
    lines = []
    for n, raw in enumerate(params.get("invoice_items") or []):
        qty = as_int(raw, "quantity", default=1) or 1
        price = ctx.get(raw["price"], "price", param=f"invoice_items[{n}][price]") \
            if raw.get("price") else None
        amount = line_amount(ctx, price, qty) if price else as_int(raw, "amount", default=0)
        now = ctx.now()
        item = {"id": None, "amount": amount, "currency": currency, "quantity": qty,
                "description": raw.get("description"), "metadata": raw.get("metadata") or {},
                "period": {"start": now, "end": now}, "proration": False, "parent": None,
                "pricing": None}
        lines.append(invoice_lines.from_invoice_item(ctx, item, None))
    return lines


def _pending_lines(ctx: Ctx, customer: str, sub_id: str | None, currency: str) -> list[Obj]:
    return [invoice_lines.from_invoice_item(ctx, item, None)
            for item in invoiceitems.pending(ctx, customer, subscription=sub_id)
            if item["currency"] == currency]


def _finish(ctx: Ctx, invoice: Obj, lines: list[Obj], customer: Obj,
            rates: list[str] | None = None) -> Obj:
    invoice["id"] = "upcoming_" + invoice["id"]
    for line in lines:
        line["invoice"] = invoice["id"]
    invoice_lines.set_lines(invoice, lines)
    if rates:
        tax_rates.apply_taxes(ctx, invoice, rates,
                              param="subscription_details[default_tax_rates]")
    invoice["lines"]["url"] = "/v1/invoices/create_preview/lines"
    balance = int(customer.get("balance") or 0)
    net = invoice["total"] + balance
    invoice.update(starting_balance=balance, ending_balance=min(0, net),
                   amount_due=max(0, net), amount_remaining=max(0, net),
                   billing_reason=invoice["billing_reason"])
    return invoice


def _rate_ids(details: Obj, sub: Obj | None) -> list[str]:
    raw = details.get("default_tax_rates") or (sub or {}).get("default_tax_rates") or []
    raw = list(raw.values()) if isinstance(raw, dict) else raw
    return [r["id"] if isinstance(r, dict) else str(r) for r in raw if r]


def _for_subscription(ctx: Ctx, params: Params, details: Obj) -> Obj:
    sub = ctx.get(params["subscription"], "subscription", param="subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise ApiError(400, f"No upcoming invoices for subscription {sub['id']}: it has "
                       "ended.", code="invoice_upcoming_none")
    customer = ctx.get(sub["customer"], "customer")
    how = subscription_changes.behavior(details)
    when = as_int(details, "proration_date") or ctx.now()
    draft = copy.deepcopy(sub)
    prorations: list[Obj] = []
    if details.get("items"):
        items = details["items"]
        plan = subscription_changes.plan_changes(ctx, sub, list(items.values()) if isinstance(
            items, dict) else items, when=when, prorations=how != "none")
        subscription_items.set_items(draft, plan.items)
        prorations = subscription_changes.proration_lines(ctx, sub, plan.prorations)
    lines = _pending_lines(ctx, sub["customer"], sub["id"], sub["currency"]) + prorations
    if how == "always_invoice" and details.get("items"):
        invoice = invoices.new_invoice(ctx, customer, billing_reason="subscription_update",
                                       currency=sub["currency"], subscription=sub,
                                       collection_method=sub["collection_method"],
                                       period=(when, when))
        return _finish(ctx, invoice, lines, customer, _rate_ids(details, sub))
    interval, count = recurring_of(subscription_items.items_of(draft)[0]["price"])
    start, end = sub["_period"]
    if sub["status"] == "trialing":
        new, arrears = (end, shift(end, interval, count, 1)), None
    else:
        new, arrears = next_period(sub["_anchor"], interval, count, end), (start, end)
    if details.get("cancel_at_period_end") in ("true", True):
        new = None
    lines += subscription_invoices.lines_for(ctx, draft, None, advance=new, arrears=arrears)
    invoice = invoices.new_invoice(ctx, customer, billing_reason="upcoming",
                                   currency=sub["currency"], subscription=sub,
                                   collection_method=sub["collection_method"],
                                   period=(start, end))
    invoice["next_payment_attempt"] = end + invoices.AUTO_FINALIZE_DELAY
    invoice["created"] = end
    return _finish(ctx, invoice, lines, customer, _rate_ids(details, sub))


def preview_subscription(ctx: Ctx, sub_id: str) -> Obj:
    """The subscription's next invoice as it stands (``invoice.upcoming``)."""
    return _for_subscription(ctx, {"subscription": sub_id}, {})


def _new_subscription(ctx: Ctx, params: Params, details: Obj, customer: Obj) -> Obj:
    raw = details["items"]
    raw = list(raw.values()) if isinstance(raw, dict) else raw
    now = ctx.now()
    sub = {"id": None, "customer": customer["id"], "metadata": {}}
    prices = [subscription_items.recurring_price(ctx, str(e.get("price") or ""),
                                                 param=f"subscription_details[items][{n}][price]")
              for n, e in enumerate(raw)]
    interval, count = recurring_of(prices[0])
    period = (now, shift(now, interval, count, 1))
    subscription_items.set_items(sub, [subscription_items.build(
        ctx, "", p, as_int(e, "quantity"), None, period) for e, p in zip(raw, prices,
                                                                         strict=True)])
    lines = _pending_lines(ctx, customer["id"], None, prices[0]["currency"])
    lines += subscription_invoices.lines_for(ctx, sub, None, advance=period, arrears=None)
    lines += _extra_lines(ctx, params, prices[0]["currency"])
    invoice = invoices.new_invoice(ctx, customer, billing_reason="subscription_create",
                                   currency=prices[0]["currency"],
                                   collection_method="charge_automatically", period=(now, now))
    return _finish(ctx, invoice, lines, customer, _rate_ids(details, None))


def create_preview(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, _PARAMS)
    details = params.get("subscription_details") or {}
    if params.get("subscription"):
        return _for_subscription(ctx, params, details)
    if not params.get("customer"):
        raise missing_param("customer")
    customer = ctx.get(params["customer"], "customer", param="customer")
    if details.get("items"):
        return _new_subscription(ctx, params, details, customer)
    currency = str(params.get("currency") or customer.get("currency") or "usd").lower()
    lines = _pending_lines(ctx, customer["id"], None, currency)
    lines += _extra_lines(ctx, params, currency)
    invoice = invoices.new_invoice(ctx, customer, billing_reason="upcoming", currency=currency,
                                   collection_method="charge_automatically")
    return _finish(ctx, invoice, lines, customer)


def register(reg: Registry) -> None:
    reg.route("POST", "/v1/invoices/create_preview", create_preview)
