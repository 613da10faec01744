"""charge.dispute.* → disputes (+ revoking the disputed purchase)."""

from __future__ import annotations

from sandbox.usersys.context import Ctx, stripe_id, ts
from sandbox.usersys.entitlements import revoke_purchase, withdraws_funds
from sandbox.usersys.families._rows import get_or_new, get_row
from sandbox.usersys.models import Dispute, Payment

RANK = {"warning_needs_response": 0, "needs_response": 0, "warning_under_review": 1,
        "under_review": 1, "won": 2, "lost": 2, "warning_closed": 2, "prevented": 2}


def on_dispute(ctx: Ctx) -> None:
    dispute = ctx.obj
    did = dispute["id"]
    if ctx.on("FM-32"):
        # FM-32: no dispute handler at all.
        ctx.hit("FM-32", did, f"{ctx.type} ignored")
        return ctx.ignore("FM-32: dispute events not handled")
    rank = RANK.get(dispute.get("status") or "", 0)
    row, created = get_or_new(ctx, Dispute, Dispute.stripe_dispute_id, did)
    if not created and not ctx.fresh(row, rank, did):
        return ctx.stale("older dispute snapshot")
    pi_id = stripe_id(dispute.get("payment_intent"))
    charge_id = stripe_id(dispute.get("charge"))
    payment = get_row(ctx, Payment, Payment.stripe_payment_intent_id, pi_id) if pi_id else None
    if payment is None and charge_id:
        payment = get_row(ctx, Payment, Payment.stripe_charge_id, charge_id)
    currency = dispute.get("currency")
    row.payment_id = payment.id if payment else row.payment_id
    row.stripe_charge_id = charge_id
    row.stripe_payment_intent_id = pi_id
    row.amount = ctx.amount(dispute.get("amount"), currency, did)
    row.currency = currency
    row.status = dispute.get("status")
    row.reason = dispute.get("reason")
    row.evidence_due_by = ts((dispute.get("evidence_details") or {}).get("due_by"))
    ctx.stamp(row, rank)
    ctx.session.flush()
    ctx.effect(f"dispute {did} {row.status}")
    if payment is not None and withdraws_funds(row.status):
        revoke_purchase(ctx, payment, "disputed")
