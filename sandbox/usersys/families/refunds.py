"""refund.* and charge.refund.updated → refunds (+ revoking fully refunded purchases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.usersys.context import Ctx, stripe_id
from sandbox.usersys.entitlements import purchase_reversal, revoke_purchase
from sandbox.usersys.families._rows import get_or_new, get_row
from sandbox.usersys.models import Payment, Refund

RANK = {"pending": 0, "requires_action": 0, "succeeded": 1, "failed": 2, "canceled": 2}
REFUNDING = ("pending", "requires_action", "succeeded")  # counted in charge.amount_refunded
RETURNED = ("failed", "canceled")
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
    was_refunding = not created and row.status in REFUNDING
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
    if payment is not None and was_refunding and row.status in RETURNED:
        _returned(ctx, payment, row)
    if payment is not None:
        revoke_if_fully_refunded(ctx, payment)
    return True


def _returned(ctx: Ctx, payment: Payment, refund: Refund) -> None:
    """A refund failed (or was canceled) after it counted: the charge's refunded amount
    drops by it. Newer charge snapshots already know; older ones are corrected on arrival
    (`failed_since`)."""
    if payment.charge_event_created is not None and payment.charge_event_created >= ctx.created:
        return
    payment.amount_refunded = max((payment.amount_refunded or 0) - (refund.amount or 0), 0)
    payment.charge_event_created = ctx.created
    ctx.effect(f"payment {payment.stripe_payment_intent_id} refunded amount back to "
               f"{payment.amount_refunded}")


def failed_since(ctx: Ctx, charge_id: str) -> int:
    """Local amount of the charge's refunds that failed after the charge snapshot being
    applied (they are still counted in its amount_refunded)."""
    rows = ctx.session.scalars(select(Refund).where(
        Refund.stripe_charge_id == charge_id, Refund.status.in_(RETURNED),
        Refund.stripe_event_created > ctx.created))
    return sum(r.amount or 0 for r in rows)


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
