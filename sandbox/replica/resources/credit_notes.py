"""Credit notes (``cn_``): reduce what an invoice asks for, or give money back after it.

On an ``open`` invoice a credit note is ``pre_payment``: ``amount_due`` and
``amount_remaining`` drop (``pre_payment_credit_notes_amount``); crediting all that is
left marks the invoice paid. On a ``paid`` invoice it is ``post_payment`` and its amount
must be split into ``refund_amount`` (a refund through the payments module's
``POST /v1/refunds``), ``credit_amount`` (the customer's balance, a
``customer_balance_transaction`` of type ``credit_note``) and ``out_of_band_amount``.
Amount from ``amount`` or ``lines`` (``invoice_line_item`` by quantity or amount,
``custom_line_item``). Voiding undoes the invoice and balance effects (not refunds).
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import invoice_collection, invoice_payments
from sandbox.replica.resources.customer_balance import adjust
from sandbox.replica.templates import apply_metadata, template

SPEC = ResourceSpec(
    object="credit_note",
    path="/v1/credit_notes",
    defaults={"customer_balance_transaction": None, "memo": None, "metadata": {},
              "out_of_band_amount": None, "shipping_cost": None, "status": "issued",
              "voided_at": None, "pretax_credit_amounts": [], "total_taxes": [], "refunds": [],
              "reason": None, "customer_account": None, "discount_amounts": [],
              "discount_amount": 0, "amount_shipping": 0},
    fields=frozenset(),
    filters={"invoice": "invoice", "customer": "customer"},
    operations=frozenset({"list", "retrieve"}),
)
_CREATE = frozenset({"invoice", "amount", "lines", "credit_amount", "refund_amount",
                     "out_of_band_amount", "reason", "memo", "metadata", "effective_at",
                     "email_type", "refunds", "shipping_cost"})
_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _line(ctx: Ctx, invoice: Obj, raw: Obj, n: int) -> Obj:
    line = template("credit_note_line_item")
    line.update(id=ctx.new_id("credit_note_line_item", prefix="cnli_"), livemode=False,
                discount_amount=0, discount_amounts=[], tax_rates=[], pretax_credit_amounts=[],
                taxes=[], metadata=raw.get("metadata") or None, invoice_line_item=None)
    qty = as_int(raw, "quantity", default=1)
    if raw.get("type") == "invoice_line_item":
        source = next((li for li in invoice["lines"]["data"]
                       if li["id"] == raw.get("invoice_line_item")), None)
        if source is None:
            raise invalid_param(f"lines[{n}][invoice_line_item]", "No such invoice line item: "
                                f"'{raw.get('invoice_line_item')}'")
        unit = source["amount"] // max(1, int(source.get("quantity") or 1))
        amount = as_int(raw, "amount") if raw.get("amount") is not None else unit * qty
        if amount > source["amount"]:
            raise invalid_param(f"lines[{n}][amount]", "The credit note line amount cannot "
                                "exceed the invoice line amount.")
        line.update(type="invoice_line_item", invoice_line_item=source["id"], amount=amount,
                    quantity=qty, description=source.get("description"), unit_amount=None,
                    unit_amount_decimal=None)
    elif raw.get("type") == "custom_line_item":
        unit = as_int(raw, "unit_amount")
        if unit is None:
            raise missing_param(f"lines[{n}][unit_amount]")
        line.update(type="custom_line_item", amount=unit * qty, quantity=qty,
                    description=raw.get("description"), unit_amount=unit,
                    unit_amount_decimal=str(unit))
    else:
        raise invalid_param(f"lines[{n}][type]", "Invalid type: must be invoice_line_item or "
                            "custom_line_item")
    return line


def build(ctx: Ctx, params: Params) -> tuple[Obj, Obj]:
    """(credit note, invoice) computed and validated, nothing written."""
    crud.check_params(params, _CREATE, ("invoice",))
    invoice = ctx.get(params["invoice"], "invoice", param="invoice")
    if invoice["status"] not in ("open", "paid", "uncollectible"):
        raise ApiError(400, f"You can't create a credit note for an invoice that is "
                       f"{invoice['status']}.", param="invoice")
    raw_lines = params.get("lines") or []
    lines = [_line(ctx, invoice, raw, n) for n, raw in enumerate(raw_lines)]
    amount = as_int(params, "amount")
    if amount is None:
        if not lines:
            raise missing_param("amount")
        amount = sum(li["amount"] for li in lines)
    elif lines and amount != sum(li["amount"] for li in lines):
        raise invalid_param("amount", "The amount must equal the sum of the lines.")
    if amount <= 0:
        raise invalid_param("amount", "The credit note amount must be positive.")
    post = invoice["status"] == "paid"
    limit = (invoice["amount_paid"] - invoice["post_payment_credit_notes_amount"] if post
             else invoice["amount_remaining"])
    if amount > limit:
        raise invalid_param("amount", f"The credit note amount ({amount}) is greater than "
                            f"the amount that can be credited ({limit}).")
    refund, credit = as_int(params, "refund_amount", default=0), as_int(
        params, "credit_amount", default=0)
    oob = as_int(params, "out_of_band_amount", default=0)
    if post and refund + credit + oob != amount:
        raise invalid_param("amount", "The sum of refund_amount, credit_amount and "
                            "out_of_band_amount must equal the credit note amount.")
    if params.get("reason") and params["reason"] not in _REASONS:
        raise invalid_param("reason", "Invalid reason")
    note = ctx.new_object(SPEC.object)
    seq = int(invoice.get("_credit_notes") or 0) + 1
    note.update(
        amount=amount, currency=invoice["currency"], customer=invoice["customer"],
        invoice=invoice["id"], effective_at=as_int(params, "effective_at") or ctx.now(),
        memo=params.get("memo") or None, metadata=apply_metadata({}, params.get("metadata")),
        number=f"{invoice.get('number') or 'DRAFT'}-CN-{seq:02d}",
        out_of_band_amount=oob or None, reason=params.get("reason") or None,
        subtotal=amount, subtotal_excluding_tax=amount, total=amount,
        total_excluding_tax=amount, type="post_payment" if post else "pre_payment",
        post_payment_amount=amount if post else 0, pre_payment_amount=0 if post else amount,
        pdf=f"https://pay.stripe.com/credit_notes/{ctx.account}/test_{note['id'][3:]}/pdf",
    )
    note["lines"] = {"object": "list", "data": lines, "has_more": False,
                     "url": f"/v1/credit_notes/{note['id']}/lines"}
    note["_refund"], note["_credit"] = refund, credit
    return note, invoice


def _refund(ctx: Ctx, invoice: Obj, amount: int) -> Obj:
    paid = [p for p in invoice_payments.of_invoice(ctx, invoice["id"]) if p["status"] == "paid"]
    route = next((r for r in ctx.engine.registry.routes
                  if r.method == "POST" and r.path == "/v1/refunds"), None)
    if not paid or route is None:
        raise invalid_param("refund_amount", "This invoice has no payment that can be refunded "
                            "here; use credit_amount or out_of_band_amount.")
    pi = paid[0]["payment"]["payment_intent"]
    refund = route.handler(ctx, {"payment_intent": pi, "amount": str(amount)})
    return {"amount_refunded": amount, "refund": refund["id"], "payment_record_refund": None,
            "type": "refund"}


def create(ctx: Ctx, params: Params) -> Obj:
    note, invoice = build(ctx, params)
    invoice["_credit_notes"] = int(invoice.get("_credit_notes") or 0) + 1
    if note["_refund"]:
        note["refunds"] = [_refund(ctx, invoice, note["_refund"])]
    if note["_credit"]:
        txn = adjust(ctx, note["customer"], -note["_credit"], currency=note["currency"],
                     type="credit_note", credit_note=note["id"], invoice=invoice["id"])
        note["customer_balance_transaction"] = txn["id"]
    ctx.insert(note)
    ctx.emit("credit_note.created", note)
    _apply_to_invoice(ctx, invoice, note, sign=1)
    return note


def _apply_to_invoice(ctx: Ctx, invoice: Obj, note: Obj, *, sign: int) -> None:
    before = {k: invoice[k] for k in ("amount_due", "amount_remaining",
                                      "pre_payment_credit_notes_amount",
                                      "post_payment_credit_notes_amount")}
    amount = sign * note["amount"]
    if note["type"] == "post_payment":
        invoice["post_payment_credit_notes_amount"] += amount
    else:
        invoice["pre_payment_credit_notes_amount"] += amount
        invoice["amount_due"] -= amount
        invoice["amount_remaining"] -= amount
    ctx.replace(invoice)
    ctx.emit("invoice.updated", invoice, previous=before)
    if note["type"] == "pre_payment" and invoice["status"] == "open" and \
            invoice["amount_remaining"] == 0:
        invoice_collection.mark_paid(ctx, invoice, 0, out_of_band=True)


def void(ctx: Ctx, params: Params, id: str) -> Obj:
    note = crud.load(ctx, SPEC, id)
    if note["status"] == "void":
        raise ApiError(400, "This credit note has already been voided.")
    if note.get("refunds"):
        raise ApiError(400, "A credit note with a refund cannot be voided.")
    invoice = ctx.get(note["invoice"], "invoice")
    if note["type"] == "pre_payment" and invoice["status"] != "open":
        raise ApiError(400, "The invoice of this credit note is no longer open.")
    if note.get("_credit"):
        adjust(ctx, note["customer"], note["_credit"], currency=note["currency"],
               type="credit_note", credit_note=note["id"], invoice=invoice["id"])
    note.update(status="void", voided_at=ctx.now())
    ctx.replace(note)
    ctx.emit("credit_note.voided", note, previous={"status": "issued", "voided_at": None})
    _apply_to_invoice(ctx, invoice, note, sign=-1)
    return note


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"memo", "metadata"}))
    note = crud.load(ctx, SPEC, id)
    previous = {k: note[k] for k in ("memo", "metadata") if k in params}
    if "memo" in params:
        note["memo"] = params["memo"] or None
    if "metadata" in params:
        note["metadata"] = apply_metadata(note["metadata"], params["metadata"])
    ctx.replace(note)
    ctx.emit("credit_note.updated", note, previous=previous)
    return note


def lines(ctx: Ctx, params: Params, id: str) -> Obj:
    note = crud.load(ctx, SPEC, id)
    return note["lines"]


def preview(ctx: Ctx, params: Params) -> Obj:
    note, _ = build(ctx, params)
    note["id"] = "cn_preview_" + note["id"][3:]
    return note


def preview_lines(ctx: Ctx, params: Params) -> Obj:
    params = {k: v for k, v in params.items() if k not in ("limit", "starting_after",
                                                           "ending_before")}
    return preview(ctx, params)["lines"]


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("POST", SPEC.path + "/{id}/void", void)
    reg.route("GET", SPEC.path + "/{id}/lines", lines)
    reg.route("GET", SPEC.path + "/preview", preview)
    reg.route("GET", SPEC.path + "/preview/lines", preview_lines)
