"""Invoice items: one-off charges (or credits) waiting for an invoice, and prorations.

An item without ``invoice`` is *pending*: the customer's next subscription invoice (or an
invoice created with ``pending_invoice_items_behavior=include``) pulls it in. Created with
``invoice=in_…`` it lands on that draft at once. Amount from ``amount``, or ``pricing[price]``
/ ``price_data`` / ``unit_amount_decimal`` × ``quantity``. Items on a finalised invoice can no
longer change or be deleted.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_bool, as_int
from sandbox.replica.listing import PageQuery
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import invoice_lines
from sandbox.replica.resources.billing_pricing import line_amount, unit_amount_decimal
from sandbox.replica.templates import apply_metadata

_AMOUNTS = frozenset({"amount", "currency", "price", "price_data", "pricing", "quantity",
                      "quantity_decimal", "unit_amount", "unit_amount_decimal"})
_UPDATE = _AMOUNTS - {"currency"} | {"description", "discountable", "metadata", "period",
                                     "discounts", "tax_rates", "tax_behavior", "tax_code"}
_CREATE = _UPDATE | _AMOUNTS | {"customer", "invoice", "subscription", "customer_account"}

SPEC = ResourceSpec(
    object="invoiceitem",
    path="/v1/invoiceitems",
    defaults={"description": None, "invoice": None, "parent": None, "test_clock": None,
              "proration": False, "discounts": [], "tax_rates": [], "metadata": {},
              "customer_account": None, "quantity": 1, "quantity_decimal": "1"},
    fields=frozenset(),
    create_params=_CREATE,
    update_params=_UPDATE,
    filters={"customer": "customer", "invoice": "invoice", "pending": "_pending"},
    operations=CRUD - {"create", "update", "delete"},
)


def _price_amount(ctx: Ctx, item: Obj, params: Params, quantity: int) -> None:
    price_id = (params.get("pricing") or {}).get("price") or params.get("price")
    if price_id:
        price = ctx.get(price_id, "price", param="pricing[price]")
        item.update(amount=line_amount(ctx, price, quantity), currency=price["currency"])
        item["pricing"] = {"type": "price_details", "unit_amount_decimal":
                           unit_amount_decimal(price),
                           "price_details": {"price": price["id"], "product": price["product"]}}
        return
    data = params.get("price_data")
    unit = (data or {}).get("unit_amount_decimal") or (data or {}).get("unit_amount") \
        or params.get("unit_amount_decimal") or params.get("unit_amount")
    if unit not in (None, ""):
        try:
            exact = Decimal(str(unit)) * quantity
        except ArithmeticError:
            raise invalid_param("unit_amount_decimal", f"Invalid decimal: {unit}") from None
        item["amount"] = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
        if data:
            item["currency"] = str(data.get("currency") or "").lower() or item.get("currency")
        item["pricing"] = {"type": "price_details", "unit_amount_decimal": str(unit),
                           "price_details": None}
        return
    if "amount" in params:
        item["amount"] = as_int(params, "amount")
        item["pricing"] = {"type": "price_details", "unit_amount_decimal": str(item["amount"]),
                           "price_details": None}


def _apply(ctx: Ctx, item: Obj, params: Params, creating: bool) -> None:
    if "quantity" in params:
        item["quantity"] = as_int(params, "quantity", default=1)
        item["quantity_decimal"] = str(item["quantity"])
    if creating or _AMOUNTS & set(params):
        _price_amount(ctx, item, params, int(item.get("quantity") or 1))
    if creating and params.get("currency"):
        item["currency"] = str(params["currency"]).lower()
    for name in ("description",):
        if name in params:
            item[name] = params[name] or None
    if "discountable" in params:
        item["discountable"] = bool(as_bool(params, "discountable", default=True))
    if "metadata" in params:
        item["metadata"] = apply_metadata(item.get("metadata"), params["metadata"])
    if params.get("period"):
        item["period"] = {"start": as_int(params["period"], "start"),
                          "end": as_int(params["period"], "end")}
    if item.get("amount") is None:
        raise missing_param("amount")
    if not item.get("currency"):
        raise missing_param("currency")
    item["net_amount"] = item["amount"]


def _new(ctx: Ctx) -> Obj:
    item = ctx.new_object(SPEC.object)
    item["date"] = item.pop("created")  # invoice items say ``date``, not ``created``
    return item


def new_item(
    ctx: Ctx, *, customer: str, amount: int, currency: str, description: str | None,
    period: tuple[int, int], price: Obj | None = None, quantity: int = 1,
    subscription: str | None = None, subscription_item: str | None = None,
    proration: bool = False, invoice: str | None = None, metadata: dict | None = None,
) -> Obj:
    """An invoice item made by billing itself (prorations, ``add_invoice_items``); stored."""
    item = _new(ctx)
    item.update(
        customer=customer, amount=amount, net_amount=amount, currency=currency,
        description=description, period={"start": period[0], "end": period[1]},
        quantity=quantity, quantity_decimal=str(quantity), proration=proration,
        invoice=invoice, metadata=metadata or {}, discountable=not proration,
        pricing={"type": "price_details",
                 "unit_amount_decimal": unit_amount_decimal(price) if price else str(amount),
                 "price_details": {"price": price["id"], "product": price["product"]}
                 if price else None},
    )
    if subscription:
        item["parent"] = {"type": "subscription_details", "subscription_details": {
            "subscription": subscription, "subscription_item": subscription_item}}
    item["_pending"] = invoice is None
    ctx.insert(item)
    ctx.emit("invoiceitem.created", item)
    return item


def create(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, SPEC.create_params, ("customer",))
    customer = ctx.get(params["customer"], "customer", param="customer")
    item = _new(ctx)
    now = ctx.now()
    item.update(customer=customer["id"], period={"start": now, "end": now},
                currency=customer.get("currency"), discountable=True, amount=None)
    _apply(ctx, item, params, True)
    if params.get("subscription"):
        sub = ctx.get(params["subscription"], "subscription", param="subscription")
        item["parent"] = {"type": "subscription_details", "subscription_details": {
            "subscription": sub["id"], "subscription_item": None}}
    invoice = None
    if params.get("invoice"):
        invoice = ctx.get(params["invoice"], "invoice", param="invoice")
        _check_draft(invoice)
        item["invoice"] = invoice["id"]
    item["_pending"] = invoice is None
    ctx.insert(item)
    ctx.emit("invoiceitem.created", item)
    if invoice is not None:
        attach(ctx, invoice, [item])
        ctx.replace(invoice)
    return item


def _check_draft(invoice: Obj) -> None:
    if invoice["status"] != "draft":
        raise ApiError(400, "You can only add invoice items to draft invoices.",
                       code="invoice_not_editable", param="invoice")


def _editable(ctx: Ctx, item: Obj) -> Obj | None:
    if not item.get("invoice"):
        return None
    invoice = ctx.get(item["invoice"], "invoice")
    if invoice["status"] != "draft":
        raise ApiError(400, "The invoice item is attached to a finalized invoice and can no "
                       "longer be modified.", code="invoice_not_editable")
    return invoice


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    item = crud.load(ctx, SPEC, id)
    crud.check_params(params, SPEC.update_params)
    invoice = _editable(ctx, item)
    before = copy.deepcopy(item)
    _apply(ctx, item, params, False)
    changed = crud.diff(public(before), public(item))
    ctx.replace(item)
    if invoice is not None:
        lines = [invoice_lines.from_invoice_item(ctx, item, invoice["id"])
                 if invoice_lines.item_of(line) == id else line
                 for line in invoice["lines"]["data"]]
        invoice_lines.set_lines(invoice, lines)
        ctx.replace(invoice)
    if changed:
        ctx.emit("invoiceitem.updated", item, previous=changed)
    return item


def delete(ctx: Ctx, params: Params, id: str) -> Obj:
    item = crud.load(ctx, SPEC, id)
    invoice = _editable(ctx, item)
    if invoice is not None:
        invoice_lines.set_lines(invoice, [line for line in invoice["lines"]["data"]
                                          if invoice_lines.item_of(line) != id])
        ctx.replace(invoice)
    return crud.delete(ctx, SPEC, item)


def pending(ctx: Ctx, customer: str, *, subscription: str | None = None) -> list[Obj]:
    """Pending items of `customer`: those of `subscription` plus those of no subscription."""
    query = PageQuery(limit=100, types=[SPEC.object],
                      filters={"customer": customer, "_pending": 1})
    found = []
    while True:
        page = ctx.engine.store.list(ctx.account, query)
        for item in page.data:
            sub = ((item.get("parent") or {}).get("subscription_details") or {}).get(
                "subscription")
            if sub is None or sub == subscription:
                found.append(item)
        if not page.has_more:
            break
        query.starting_after = page.data[-1]["id"]
    found.reverse()  # oldest first, as lines appear on the invoice
    return found


def attach(ctx: Ctx, invoice: Obj, items: list[Obj]) -> None:
    """Put `items` on draft `invoice` as lines (caller saves the invoice)."""
    lines = list(invoice["lines"]["data"])
    for item in items:
        if item.get("invoice") != invoice["id"] or item.get("_pending"):
            before = {"invoice": item.get("invoice")}
            item["invoice"], item["_pending"] = invoice["id"], False
            ctx.replace(item)
            if before["invoice"] != invoice["id"]:
                ctx.emit("invoiceitem.updated", item, previous=before)
        lines.append(invoice_lines.from_invoice_item(ctx, item, invoice["id"]))
    invoice_lines.set_lines(invoice, lines)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("DELETE", SPEC.path + "/{id}", delete)
