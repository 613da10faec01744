"""Invoice lines (``line_item``): built from invoice items or subscription items, totals,
and ``GET /v1/invoices/{id}/lines``.

A line says where it came from in ``parent``: ``invoice_item_details`` (an invoice item,
prorations included) or ``subscription_item_details`` (a subscription item's period), and
what it costs in ``pricing.price_details``. Lines live inside their invoice
(``lines.data``); an invoice's totals are sums of its lines (no tax or discounts here).
"""

from __future__ import annotations

from typing import Any

from core.money import exponent
from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import resource_missing
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params
from sandbox.replica.resources.billing_pricing import unit_amount_decimal
from sandbox.replica.templates import template


def _pricing(price: Obj | None, unit_decimal: str | None) -> Obj:
    details = {"price": price["id"], "product": price.get("product")} if price else None
    return {"type": "price_details", "price_details": details,
            "unit_amount_decimal": unit_decimal}


def _blank(ctx: Ctx, invoice_id: str | None) -> Obj:
    line = template("line_item")
    line.update(id=ctx.new_id("line_item"), invoice=invoice_id, livemode=False, discounts=[],
                discount_amounts=[], pretax_credit_amounts=[], taxes=[], metadata={},
                discountable=True, subscription=None)
    return line


def from_invoice_item(ctx: Ctx, item: Obj, invoice_id: str | None) -> Obj:
    line = _blank(ctx, invoice_id)
    sub = ((item.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    line.update(
        amount=item["amount"], subtotal=item["amount"], currency=item["currency"],
        description=item.get("description"), discountable=item.get("discountable", True),
        metadata=dict(item.get("metadata") or {}), period=dict(item["period"]),
        quantity=item.get("quantity"), quantity_decimal=str(item.get("quantity") or 1),
        subscription=sub, pricing=dict(item.get("pricing") or _pricing(None, None)),
    )
    line["parent"] = {
        "type": "invoice_item_details",
        "invoice_item_details": {
            "invoice_item": item["id"], "proration": bool(item.get("proration")),
            "proration_details": {"credited_items": None}, "subscription": sub,
        },
        "subscription_item_details": None,
    }
    return line


def item_of(line: Obj) -> str | None:
    """The invoice item a line was made from (None for subscription-item lines)."""
    return ((line.get("parent") or {}).get("invoice_item_details") or {}).get("invoice_item")


def from_subscription_item(
    ctx: Ctx, invoice_id: str | None, *, subscription: str, item: Obj, price: Obj,
    quantity: int, amount: int, period: tuple[int, int], description: str,
) -> Obj:
    line = _blank(ctx, invoice_id)
    line.update(
        amount=amount, subtotal=amount, currency=price["currency"], description=description,
        period={"start": period[0], "end": period[1]}, quantity=quantity,
        quantity_decimal=str(quantity), subscription=subscription,
        pricing=_pricing(price, unit_amount_decimal(price)),
        metadata=dict(item.get("metadata") or {}),
    )
    line["parent"] = {
        "type": "subscription_item_details",
        "invoice_item_details": None,
        "subscription_item_details": {
            "invoice_item": None, "proration": False,
            "proration_details": {"credited_items": None},
            "subscription": subscription, "subscription_item": item["id"],
        },
    }
    return line


_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def money_text(amount: int, currency: str) -> str:
    """``$20.00``: minor units shown with the currency's exponent (`core.money`)."""
    exp = exponent(currency)
    sign, value = ("-" if amount < 0 else ""), abs(amount)
    major, minor = divmod(value, 10**exp) if exp else (value, 0)
    text = f"{major:,}" + (f".{minor:0{exp}d}" if exp else "")
    symbol = _SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def describe(quantity: int, product_name: str, price: Obj) -> str:
    """``1 × Pro (at $20.00 / month)`` — the shape of Stripe's line descriptions."""
    rec = price.get("recurring") or {}
    if price.get("unit_amount") is None or not rec:
        return f"{quantity} × {product_name}"
    every = rec.get("interval", "month")
    if int(rec.get("interval_count") or 1) > 1:
        every = f"every {rec['interval_count']} {every}s"
    return (f"{quantity} × {product_name} "
            f"(at {money_text(int(price['unit_amount']), price['currency'])} / {every})")


def set_lines(invoice: Obj, lines: list[Obj]) -> None:
    invoice["lines"] = {"object": "list", "data": lines, "has_more": False,
                        "url": f"/v1/invoices/{invoice['id']}/lines"}
    totals(invoice)


def add_line(invoice: Obj, line: Obj) -> None:
    set_lines(invoice, [*invoice["lines"]["data"], line])


def totals(invoice: Obj) -> None:
    """Sums of a draft's lines; a finalised invoice's amounts move only by payments/credits."""
    subtotal = sum(int(line["amount"]) for line in invoice["lines"]["data"])
    invoice.update(subtotal=subtotal, subtotal_excluding_tax=subtotal, total=subtotal,
                   total_excluding_tax=subtotal)
    if invoice.get("status") in (None, "draft"):
        due = max(0, subtotal)
        invoice.update(amount_due=due, amount_remaining=due, amount_paid=0)


def list_lines(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"limit", "starting_after", "ending_before", "expand"}))
    invoice = ctx.find(id)
    if invoice is None or invoice.get("object") != "invoice" or invoice.get("deleted"):
        raise resource_missing("invoice", id)
    lines: list[Any] = invoice["lines"]["data"]
    limit = as_int(params, "limit", default=10) or 10
    ids = [line["id"] for line in lines]
    start = 0
    if params.get("starting_after"):
        if params["starting_after"] not in ids:
            raise resource_missing("line_item", params["starting_after"], param="starting_after")
        start = ids.index(params["starting_after"]) + 1
    end = len(lines)
    if params.get("ending_before"):
        if params["ending_before"] not in ids:
            raise resource_missing("line_item", params["ending_before"], param="ending_before")
        end = ids.index(params["ending_before"])
        start = max(0, end - limit)
    page = lines[start:end][:limit]
    return {"object": "list", "data": page, "has_more": start + len(page) < end,
            "url": f"/v1/invoices/{id}/lines"}
