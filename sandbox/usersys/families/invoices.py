"""invoice.* → invoices; invoice_payment.paid links a payment to its invoice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.usersys.context import Ctx, HandlerFailed, stripe_id, ts
from sandbox.usersys.families._rows import get_or_new, get_row
from sandbox.usersys.models import Invoice, Payment

_PAID_EVENTS = ("invoice.paid", "invoice.payment_succeeded")
RANK = {"draft": 0, "open": 1, "paid": 2, "uncollectible": 2, "void": 3}


def _settled_without_charge(invoice: dict[str, Any]) -> bool:
    """Paid with no card/bank charge: credit balance, 100 % discount, tiny amount, off Stripe."""
    return (
        not invoice.get("amount_paid")
        or bool(invoice.get("paid_out_of_band"))
        or bool(invoice.get("amount_paid_off_stripe"))
    )


def _has_payment(ctx: Ctx, stripe_invoice_id: str) -> bool:
    row = get_row(ctx, Invoice, Invoice.stripe_invoice_id, stripe_invoice_id)
    if row is None:
        return False
    return ctx.session.scalar(select(Payment.id).where(Payment.invoice_id == row.id)) is not None


def _subscription_of(ctx: Ctx, inv: dict[str, Any]) -> str | None:
    # API 2025-03-31+: the link lives under parent.subscription_details; an endpoint pinned
    # to an older version still sends it at the top level.
    parent = inv.get("parent") or {}
    new = stripe_id((parent.get("subscription_details") or {}).get("subscription"))
    if new or "subscription" not in inv:
        return new
    if ctx.on("FM-05"):
        # FM-05: written for the new shape only; the old one leaves the link empty.
        if inv.get("subscription"):
            ctx.hit("FM-05", inv["id"], "old-shape invoice: subscription link left empty")
        return None
    return stripe_id(inv.get("subscription"))


def on_invoice(ctx: Ctx) -> None:
    inv = ctx.obj
    iid = inv["id"]
    if ctx.type == "invoice.created" and ctx.on("FM-06"):
        # FM-06: the invoice.created branch raises, so Stripe holds the draft.
        ctx.hit("FM-06", iid, "invoice.created answered 500")
        raise HandlerFailed("invoice.created handler raised")
    if (ctx.type in _PAID_EVENTS and ctx.on("FM-15") and _settled_without_charge(inv)
            and not _has_payment(ctx, iid)):
        # FM-15: the ledger code dereferences the invoice's charge, which doesn't exist.
        ctx.hit("FM-15", iid, f"{ctx.type} without a charge answered 500")
        raise HandlerFailed("invoice.paid: no payment found for invoice")
    # Within a status, attempts only go up (finalized and payment_failed share a second).
    rank = RANK.get(inv.get("status") or "", 0) * 1000 + min(int(inv.get("attempt_count") or 0),
                                                              999)
    row, created = get_or_new(ctx, Invoice, Invoice.stripe_invoice_id, iid)
    if not created and not ctx.fresh(row, rank, iid):
        return ctx.stale("older invoice snapshot")
    account = ctx.account_for(inv.get("customer"))
    currency = inv.get("currency")
    row.account_id = account.id if account else None
    row.stripe_subscription_id = _subscription_of(ctx, inv)
    row.number = inv.get("number")
    row.status = inv.get("status")
    row.billing_reason = inv.get("billing_reason")
    row.collection_method = inv.get("collection_method")
    row.currency = currency
    for name in ("subtotal", "total", "amount_due", "amount_paid", "amount_remaining"):
        setattr(row, name, ctx.amount(inv.get(name), currency, iid))
    row.period_start = ts(inv.get("period_start"))
    row.period_end = ts(inv.get("period_end"))
    row.paid_at = ts((inv.get("status_transitions") or {}).get("paid_at"))
    row.attempt_count = inv.get("attempt_count")
    ctx.stamp(row, rank)
    ctx.effect(f"invoice {iid} {row.status}")


def on_invoice_payment(ctx: Ctx) -> None:
    link = ctx.obj
    payment_ref = link.get("payment") or {}
    pi_id = stripe_id(payment_ref.get("payment_intent"))
    invoice_id = stripe_id(link.get("invoice"))
    if not pi_id or not invoice_id:
        return ctx.ignore("invoice payment without a PaymentIntent")
    invoice, _ = get_or_new(ctx, Invoice, Invoice.stripe_invoice_id, invoice_id)
    payment, created = get_or_new(ctx, Payment, Payment.stripe_payment_intent_id, pi_id)
    if created:
        # Stub until the PaymentIntent's own events arrive (no watermark: any snapshot wins).
        payment.currency = link.get("currency")
        payment.amount = ctx.amount(link.get("amount_paid"), link.get("currency"), pi_id)
        payment.status = "succeeded" if link.get("status") == "paid" else None
        payment.connect_account_id = ctx.scope
    ctx.session.flush()
    payment.invoice_id = invoice.id
    if payment.account_id is None:
        payment.account_id = invoice.account_id
    ctx.effect(f"payment {pi_id} linked to invoice {invoice_id}")
