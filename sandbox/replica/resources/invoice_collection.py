"""Collecting an open invoice: payment attempts through the payments module, outcomes,
``invoice_payment`` records, dunning retries, and the subscription's reaction.

An attempt calls ``payment_intents.collect(..., invoice=in_…)`` (the payments module's
contract) with the invoice's, subscription's or customer's default payment method. The
outcome arrives in `payment_outcome` — at once or days later (debits, vouchers); it is
idempotent per payment intent, so the payments module may report an outcome that the
attempt also reads back. Outcomes:

succeeded                  invoice_payment paid → invoice paid → ``invoice_payment.paid``,
                           ``invoice.paid``, ``invoice.payment_succeeded``; subscription active
requires_payment_method    invoice_payment canceled → ``invoice.payment_failed`` → dunning
requires_action            ``invoice.payment_action_required`` (the customer must act)
processing                 ``invoice.updated`` (attempt_count); the invoice stays open and
                           the subscription keeps its status until the debit settles
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError
from sandbox.replica.registry import Obj, Registry
from sandbox.replica.resources import dunning, invoice_payments, subscription_state

_FINAL_FAIL = ("requires_payment_method", "canceled")


def _collector() -> Callable[..., Obj]:
    try:
        module = importlib.import_module("sandbox.replica.resources.payment_intents")
        return module.collect
    except (ImportError, AttributeError):
        raise ApiError(400, "Payments are not available in this replica (no "
                       "payment_intents.collect).", code="payment_method_unavailable") from None


def _sub(ctx: Ctx, invoice: Obj) -> Obj | None:
    from sandbox.replica.resources.invoices import subscription_of

    sub_id = subscription_of(invoice)
    return ctx.find(sub_id) if sub_id else None


def default_payment_method(ctx: Ctx, invoice: Obj) -> str | None:
    if invoice.get("default_payment_method"):
        return invoice["default_payment_method"]
    sub = _sub(ctx, invoice)
    if sub and sub.get("default_payment_method"):
        return sub["default_payment_method"]
    customer = ctx.find(invoice["customer"]) or {}
    return (customer.get("invoice_settings") or {}).get("default_payment_method")


def _description(invoice: Obj) -> str:
    return {"subscription_create": "Subscription creation",
            "subscription_cycle": "Subscription update",
            "subscription_update": "Subscription update"}.get(invoice["billing_reason"],
                                                              f"Invoice {invoice['number']}")


def attempt(
    ctx: Ctx, invoice: Obj, *, payment_method: str | None = None, off_session: bool = True,
) -> Obj | None:
    """One payment attempt for the invoice's remaining amount; the outcome is applied."""
    pm = payment_method or default_payment_method(ctx, invoice)
    before = {k: invoice.get(k) for k in ("attempt_count", "attempted", "next_payment_attempt")}
    invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True,
                   next_payment_attempt=None)
    ctx.replace(invoice)
    if pm is None:
        _failed(ctx, invoice)
        return None
    emitted = len(ctx.events)
    pi = _collector()(
        ctx, amount=invoice["amount_remaining"], currency=invoice["currency"],
        customer=invoice["customer"], payment_method=pm, description=_description(invoice),
        metadata=None, off_session=off_session, invoice=invoice["id"],
    )
    payment_outcome(ctx, pi)  # idempotent: the payments module may have reported it already
    if not _invoice_event_since(ctx, emitted, invoice["id"]):
        # Still settling (a bank debit is processing): no outcome event yet, but the invoice
        # changed (attempt_count, attempted), and Stripe says so with invoice.updated.
        current = ctx.find(invoice["id"]) or invoice
        changed = {k: v for k, v in before.items() if current.get(k) != v}
        ctx.emit("invoice.updated", current, previous=changed)
    return pi


def _invoice_event_since(ctx: Ctx, start: int, invoice_id: str) -> bool:
    return any(e["type"].startswith("invoice.")
               and ((e.get("data") or {}).get("object") or {}).get("id") == invoice_id
               for e in ctx.events[start:])


def _invoice_for(ctx: Ctx, pi: Obj) -> Obj | None:
    candidates: list[Any] = [pi.get("_invoice")]  # set by payment_intents.collect
    record = invoice_payments.for_intent(ctx, pi["id"])
    if record is not None:
        candidates.insert(0, record["invoice"])
    for candidate in candidates:
        if isinstance(candidate, dict):
            candidate = candidate.get("id")
        if isinstance(candidate, str) and candidate.startswith("in_"):
            invoice = ctx.find(candidate)
            if invoice and invoice.get("object") == "invoice" and not invoice.get("deleted"):
                return invoice
    return None


def payment_outcome(ctx: Ctx, pi: Obj) -> None:
    invoice = _invoice_for(ctx, pi)
    if invoice is None:
        return
    record = invoice_payments.record(ctx, invoice, pi)
    status = pi.get("status")
    if status == "succeeded":
        amount = int(pi.get("amount_received") or pi.get("amount") or 0)
        if invoice_payments.mark_paid(ctx, record, amount):
            if invoice["status"] in ("open", "uncollectible"):
                mark_paid(ctx, invoice, amount)
    elif status in _FINAL_FAIL:
        if invoice_payments.mark_canceled(ctx, record) and invoice["status"] == "open":
            _failed(ctx, invoice)
    elif status == "requires_action" and not record.get("_action_required"):
        record["_action_required"] = True
        ctx.replace(record)
        ctx.emit("invoice.payment_action_required", invoice)
        subscription_state.invoice_needs_action(ctx, invoice)


def mark_paid(ctx: Ctx, invoice: Obj, amount: int, *, out_of_band: bool = False) -> Obj:
    before = {"status": invoice["status"], "amount_paid": invoice["amount_paid"],
              "amount_remaining": invoice["amount_remaining"]}
    invoice["amount_paid"] += amount
    invoice["amount_remaining"] = max(0, invoice["amount_due"] - invoice["amount_paid"])
    if invoice["amount_remaining"] == 0:
        invoice.update(status="paid", next_payment_attempt=None, auto_advance=False)
        invoice["status_transitions"] = {**invoice["status_transitions"], "paid_at": ctx.now()}
    ctx.replace(invoice)
    if invoice["status"] != "paid":
        ctx.emit("invoice.updated", invoice, previous=before)
        return invoice
    ctx.emit("invoice.paid", invoice, previous=before)
    if not out_of_band:
        ctx.emit("invoice.payment_succeeded", invoice)
    subscription_state.invoice_paid(ctx, invoice)
    return invoice


def _failed(ctx: Ctx, invoice: Obj) -> None:
    sub = _sub(ctx, invoice)
    plan = dunning.next_step(ctx, invoice, sub)
    invoice["next_payment_attempt"] = plan.retry_at
    ctx.replace(invoice)
    ctx.emit("invoice.payment_failed", invoice)
    if plan.retry_at is not None:
        ctx.schedule(plan.retry_at, "invoice.retry",
                     {"id": invoice["id"], "attempt": invoice["attempt_count"]})
    subscription_state.invoice_failed(ctx, invoice, exhausted=plan.exhausted)
    if plan.exhausted and plan.invoice_end == "uncollectible" and invoice["status"] == "open":
        from sandbox.replica.resources.invoice_actions import mark_uncollectible

        mark_uncollectible(ctx, invoice)


def retry(ctx: Ctx, payload: Obj) -> None:
    invoice = ctx.find(payload["id"])
    if not invoice or invoice.get("status") != "open" \
            or invoice["attempt_count"] != payload["attempt"]:
        return  # paid, voided or retried by hand in between
    attempt(ctx, invoice)


def cancel_attempts(ctx: Ctx, invoice: Obj) -> None:
    for record in invoice_payments.of_invoice(ctx, invoice["id"]):
        invoice_payments.mark_canceled(ctx, record)


def settled_without_payment(ctx: Ctx, invoice: Obj) -> None:
    """Voided / uncollectible: the subscription stops waiting for this invoice."""
    subscription_state.invoice_closed(ctx, invoice)


def overdue(ctx: Ctx, invoice: Obj) -> None:
    subscription_state.invoice_failed(ctx, invoice, exhausted=False)


def raise_for_outcome(pi: Obj | None, invoice: Obj) -> None:
    """``POST /v1/invoices/{id}/pay`` answers a 402 when the attempt did not go through."""
    if invoice["status"] == "paid" or (pi and pi.get("status") == "processing"):
        return
    if pi is None:
        raise ApiError(400, "There is no payment method to pay this invoice with.",
                       code="invoice_no_payment_method_types", commit=True)
    if pi.get("status") == "requires_action":
        raise ApiError(402, "This payment requires additional user action before it can be "
                       "completed successfully.", type="card_error",
                       code="invoice_payment_intent_requires_action", commit=True,
                       extra={"payment_intent": {"id": pi["id"], "status": pi["status"]}})
    error = pi.get("last_payment_error") or {}
    extra = {k: error[k] for k in ("decline_code", "charge") if error.get(k)}
    raise ApiError(402, error.get("message") or "Your card was declined.", type="card_error",
                   code=error.get("code") or "card_declined", commit=True, extra=extra)


def register(reg: Registry) -> None:
    reg.on_due("invoice.retry", retry)
