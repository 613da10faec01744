"""Invoice payments (``invoice_payment``, ``inpay_``): which payment paid which invoice.

``GET /v1/invoice_payments?invoice=in_…`` (also ``payment[payment_intent]``, ``status``)
and ``GET /v1/invoice_payments/{id}``. One record per payment intent the invoice tried:
``open`` while it is in flight, ``paid`` when it succeeded (``amount_paid``,
``status_transitions.paid_at``), ``canceled`` when it failed for good. The newest attempt is
the default one (``is_default``). ``invoice_payment.paid`` is emitted when one is paid.
"""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.listing import PageQuery
from sandbox.replica.registry import Obj, Registry, ResourceSpec

SPEC = ResourceSpec(
    object="invoice_payment",
    path="/v1/invoice_payments",
    defaults={"amount_paid": None, "status": "open", "is_default": True,
              "status_transitions": {"canceled_at": None, "paid_at": None}},
    fields=frozenset(),
    filters={"invoice": "invoice", "status": "status",
             "payment.payment_intent": "payment.payment_intent", "payment.type": "payment.type"},
    operations=frozenset({"list", "retrieve"}),
    id_prefix="inpay_",
)


def for_intent(ctx: Ctx, pi_id: str) -> Obj | None:
    query = PageQuery(limit=1, types=[SPEC.object], filters={"payment.payment_intent": pi_id})
    page = ctx.engine.store.list(ctx.account, query)
    return page.data[0] if page.data else None


def of_invoice(ctx: Ctx, invoice_id: str) -> list[Obj]:
    query = PageQuery(limit=100, types=[SPEC.object], filters={"invoice": invoice_id})
    return ctx.engine.store.list(ctx.account, query).data


def record(ctx: Ctx, invoice: Obj, pi: Obj) -> Obj:
    """The invoice's record of payment intent `pi` (created on first sight)."""
    existing = for_intent(ctx, pi["id"])
    if existing is not None:
        return existing
    for other in of_invoice(ctx, invoice["id"]):
        if other.get("is_default"):
            other["is_default"] = False
            ctx.replace(other)
    payment = ctx.new_object(SPEC.object)
    payment.update(
        invoice=invoice["id"], currency=invoice["currency"],
        amount_requested=int(pi.get("amount") or invoice["amount_remaining"]),
        payment={"type": "payment_intent", "payment_intent": pi["id"]},
    )
    ctx.insert(payment)
    return payment


def mark_paid(ctx: Ctx, payment: Obj, amount: int) -> bool:
    if payment["status"] == "paid":
        return False
    payment.update(status="paid", amount_paid=amount)
    payment["status_transitions"] = {**payment["status_transitions"], "paid_at": ctx.now()}
    ctx.replace(payment)
    ctx.emit("invoice_payment.paid", payment)
    return True


def mark_canceled(ctx: Ctx, payment: Obj) -> bool:
    if payment["status"] != "open":
        return False
    payment["status"] = "canceled"
    payment["status_transitions"] = {**payment["status_transitions"], "canceled_at": ctx.now()}
    ctx.replace(payment)
    return True


def register(reg: Registry) -> None:
    reg.resource(SPEC)
