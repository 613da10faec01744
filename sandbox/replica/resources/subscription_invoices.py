"""The invoices a subscription issues: its first one, each cycle's, and prorations.

* first (``subscription_create``): licensed items for the first period (or a 0-amount
  trial line), ``add_invoice_items`` and the customer's pending items; finalised and
  collected at once.
* cycle (``subscription_cycle``: renewal, trial end, resume): metered items billed in
  arrears for the period that just ended (quantity = meter usage), licensed items in
  advance for the new period, pending items (prorations) of the subscription; a draft
  for an hour (``automatically_finalizes_at``), then finalised and collected.
* update (``subscription_update``): ``proration_behavior=always_invoice`` bills the
  prorations at once.

`lines_for` is pure (no writes), so ``create_preview`` shows the same numbers.
"""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.registry import Obj
from sandbox.replica.resources import invoice_actions, invoice_lines, invoiceitems, invoices
from sandbox.replica.resources.billing_pricing import line_amount, meter_usage, prorate
from sandbox.replica.resources.subscription_items import is_metered, items_of


def _product_name(ctx: Ctx, price: Obj) -> str:
    product = ctx.find(price.get("product") or "") or {}
    return product.get("name") or price.get("nickname") or price["id"]


def lines_for(
    ctx: Ctx, sub: Obj, invoice_id: str | None, *, advance: tuple[int, int] | None,
    arrears: tuple[int, int] | None, trial: bool = False, stub: tuple[int, int] | None = None,
) -> list[Obj]:
    """Subscription-item lines: licensed items for `advance`, metered ones for `arrears`.

    With `stub` (the full period `advance` is a part of), licensed amounts are prorated to
    it: a future ``billing_cycle_anchor`` bills the stretch up to the anchor."""
    lines = []
    for item in items_of(sub):
        price = item["price"]
        name = _product_name(ctx, price)
        if is_metered(price):
            if arrears is None:
                continue
            meter = (price.get("recurring") or {}).get("meter")
            qty = meter_usage(ctx, meter, sub["customer"], *arrears) if meter else 0
            period, amount = arrears, line_amount(ctx, price, qty)
            desc = invoice_lines.describe(qty, name, price)
        elif advance is None:
            continue
        else:
            qty, period = int(item["quantity"] or 0), advance
            amount = 0 if trial else line_amount(ctx, price, qty)
            if stub is not None:
                amount = prorate(amount, advance[1] - advance[0], stub[1] - stub[0])
            desc = f"Trial period for {name}" if trial else invoice_lines.describe(
                qty, name, price)
        lines.append(invoice_lines.from_subscription_item(
            ctx, invoice_id, subscription=sub["id"], item=item, price=price, quantity=qty,
            amount=amount, period=period, description=desc))
    return lines


def draft(
    ctx: Ctx, sub: Obj, *, billing_reason: str, period: tuple[int, int],
    advance: tuple[int, int] | None, arrears: tuple[int, int] | None, trial: bool = False,
    include_pending: bool = True, stub: tuple[int, int] | None = None,
) -> Obj:
    """A new draft for `sub` with its lines and pending items (not stored yet)."""
    customer = ctx.get(sub["customer"], "customer")
    invoice = invoices.new_invoice(
        ctx, customer, billing_reason=billing_reason, currency=sub["currency"],
        collection_method=sub["collection_method"], days_until_due=sub.get("days_until_due"),
        auto_advance=True, subscription=sub, period=period,
        description=sub.get("description"),
    )
    invoice_lines.set_lines(invoice, lines_for(ctx, sub, invoice["id"], advance=advance,
                                               arrears=arrears, trial=trial, stub=stub))
    if include_pending:
        items = [i for i in invoiceitems.pending(ctx, sub["customer"], subscription=sub["id"])
                 if i["currency"] == sub["currency"]]
        invoiceitems.attach(ctx, invoice, items)
    return invoice


def issue(ctx: Ctx, sub: Obj, invoice: Obj, *, now: bool) -> Obj:
    """Store `invoice` as the subscription's latest; finalise (and collect) now or in 1 h.

    A paused collection (``pause_collection.behavior``) keeps the draft, voids it or marks
    it uncollectible; an ``unpaid`` subscription leaves its new drafts alone, as Stripe.
    """
    sub["latest_invoice"] = invoice["id"]
    ctx.replace(sub)
    pause = (sub.get("pause_collection") or {}).get("behavior")
    if pause or sub["status"] == "unpaid":
        invoice["auto_advance"] = False
    invoices.store_new(ctx, invoice)
    if pause == "void":
        invoice = invoice_actions.finalize(ctx, invoice, advance=False)
        return invoice_actions.void(ctx, invoice) if invoice["status"] == "open" else invoice
    if pause == "mark_uncollectible":
        invoice = invoice_actions.finalize(ctx, invoice, advance=False)
        if invoice["status"] == "open":
            return invoice_actions.mark_uncollectible(ctx, invoice)
        return invoice
    if now and invoice["auto_advance"]:
        return invoice_actions.finalize(ctx, invoice)
    return invoice


def always_invoice(ctx: Ctx, sub: Obj) -> Obj | None:
    """Bill the subscription's pending items (prorations) right away."""
    pending = [i for i in invoiceitems.pending(ctx, sub["customer"], subscription=sub["id"])
               if i["currency"] == sub["currency"]]
    if not pending:
        return None
    now = ctx.now()
    invoice = draft(ctx, sub, billing_reason="subscription_update", period=(now, now),
                    advance=None, arrears=None, include_pending=True)
    return issue(ctx, sub, invoice, now=True)
