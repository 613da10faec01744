"""refund.* and charge.refund.updated → refunds (+ revoking fully refunded purchases)."""

from __future__ import annotations

from typing import Any

from sandbox.usersys.context import Ctx, stripe_id
from sandbox.usersys.entitlements import purchase_reversal, revoke_purchase
from sandbox.usersys.families._rows import get_or_new, get_row
from sandbox.usersys.models import Payment, Refund

RANK = {"pending": 0, "requires_action": 0, "succeeded": 1, "failed": 2, "canceled": 2}
UPDATE_EVENTS = frozenset({"refund.updated", "refund.failed", "charge.refund.updated"})


def _payment_of(ctx: Ctx, refund: dict[str, Any]) -> Payment | None:
    pi_id = stripe_id(refund.get("payment_intent"))
    if pi_id:
        found = get_row(ctx, Payment, Payment.stripe_payment_intent_id, pi_id)
        if found is not None:
            return found
    charge_id = stripe_id(refund.get("charge"))
    return get_row(ctx, Payment, Payment.stripe_charge_id, charge_id) if charge_id else None


def upsert_refund(ctx: Ctx, refund: dict[str, Any]) -> bool:
    """Write one refund snapshot; False when it was not applied (stale or ignored)."""
    rid = refund["id"]
    rank = RANK.get(refund.get("status") or "", 0)
    row, created = get_or_new(ctx, Refund, Refund.stripe_refund_id, rid)
    if not created and ctx.on("FM-24"):
        # FM-24: refunds are written once, when created; later status changes are dropped.
        if row.status != refund.get("status"):
            ctx.hit("FM-24", rid, f"refund {refund.get('status')} kept as {row.status}")
        return False
    if not created and not ctx.fresh(row, rank, rid):
        return False
    payment = _payment_of(ctx, refund)
    currency = refund.get("currency")
    row.payment_id = payment.id if payment else row.payment_id
    row.stripe_charge_id = stripe_id(refund.get("charge"))
    row.stripe_payment_intent_id = stripe_id(refund.get("payment_intent")) or (
        payment.stripe_payment_intent_id if payment else None)
    row.amount = ctx.amount(refund.get("amount"), currency, rid)
    row.currency = currency
    row.status = refund.get("status")
    row.reason = refund.get("reason")
    row.failure_reason = refund.get("failure_reason")
    ctx.stamp(row, rank)
    ctx.session.flush()
    ctx.effect(f"refund {rid} {row.status}")
    if payment is not None:
        revoke_if_fully_refunded(ctx, payment)
    return True


def revoke_if_fully_refunded(ctx: Ctx, payment: Payment, *, stripe_says_full: bool = False) -> None:
    if stripe_says_full or purchase_reversal(ctx, payment.stripe_payment_intent_id) == "refunded":
        revoke_purchase(ctx, payment, "refunded")


def on_refund(ctx: Ctx) -> None:
    if ctx.on("FM-24") and ctx.type in UPDATE_EVENTS:
        # FM-24: no handler is registered for refund updates.
        existing = get_row(ctx, Refund, Refund.stripe_refund_id, ctx.obj["id"])
        if existing is not None and existing.status != ctx.obj.get("status"):
            ctx.hit("FM-24", ctx.obj["id"],
                    f"refund {ctx.obj.get('status')} kept as {existing.status}")
        return ctx.ignore("FM-24: refund updates not handled")
    if not upsert_refund(ctx, ctx.obj):
        ctx.stale("older refund snapshot")
