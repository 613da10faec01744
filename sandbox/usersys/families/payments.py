"""payment_intent.* and charge.* → payments (+ fulfilment of direct purchases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.usersys.context import Ctx, stripe_id
from sandbox.usersys.entitlements import grant_purchase, has_active, revoke_purchase
from sandbox.usersys.families._rows import get_or_new, get_row
from sandbox.usersys.families.refunds import (
    failed_since,
    revoke_if_fully_refunded,
    upsert_refund,
)
from sandbox.usersys.models import Dispute, Payment, Refund

# Tie-breaker for snapshots of the same second, in the direction a confirmation moves:
# a create+confirm that is declined goes requires_confirmation -> requires_payment_method.
RANK = {"requires_confirmation": 0, "requires_payment_method": 1, "requires_action": 2,
        "processing": 3, "requires_capture": 4, "succeeded": 5, "canceled": 5}
VOUCHER_METHODS = frozenset({"oxxo", "boleto", "konbini"})
_FAILURE_EVENTS = ("payment_intent.payment_failed", "payment_intent.canceled")


def is_voucher(obj: dict[str, Any]) -> bool:
    return bool(VOUCHER_METHODS.intersection(obj.get("payment_method_types") or []))


def _method(pi: dict[str, Any]) -> str | None:
    processing = (pi.get("processing") or {}).get("type")
    types = pi.get("payment_method_types") or []
    return processing or (types[0] if len(types) == 1 else None)


def _charge_of(ctx: Ctx, pi: dict[str, Any]) -> str | None:
    # API 2022-11-15+: ``latest_charge``; an endpoint pinned to an older version sends the
    # ``charges`` list instead.
    if "latest_charge" in pi or "charges" not in pi:
        return stripe_id(pi.get("latest_charge"))
    charges = (pi.get("charges") or {}).get("data") or []
    if ctx.on("FM-05"):
        # FM-05: written for the new shape only; the old one leaves the charge empty.
        if charges:
            ctx.hit("FM-05", pi.get("id"), "old-shape payment intent: charge left empty")
        return None
    return stripe_id(charges[0]) if charges else None


def on_payment_intent(ctx: Ctx) -> None:
    pi = ctx.obj
    pid = pi["id"]
    if ctx.type in _FAILURE_EVENTS and is_voucher(pi) and ctx.on("FM-17"):
        # FM-17: vouchers are assumed to be paid eventually; expiry is never handled.
        ctx.hit("FM-17", pid, f"{ctx.type} of a voucher ignored")
        return ctx.ignore("FM-17: voucher failure not handled")
    if _order_paid_by_another(ctx, pid, pi):
        return ctx.ignore("the order already has its payment")
    rank = RANK.get(pi.get("status") or "", 0)
    row, created = get_or_new(ctx, Payment, Payment.stripe_payment_intent_id, pid)
    if not created and not ctx.fresh(row, rank, pid):
        return ctx.stale("older payment intent snapshot")
    account = ctx.account_for(pi.get("customer"))
    currency = pi.get("currency")
    if account is not None:
        row.account_id = account.id
    row.status = pi.get("status")
    row.amount = ctx.amount(pi.get("amount"), currency, pid)
    row.amount_received = ctx.amount(pi.get("amount_received"), currency, pid)
    row.currency = currency
    row.payment_method_type = _method(pi) or row.payment_method_type
    row.failure_code = (pi.get("last_payment_error") or {}).get("code")
    row.feature = (pi.get("metadata") or {}).get("feature")
    row.order_ref = (pi.get("metadata") or {}).get("order_id")
    row.stripe_charge_id = _charge_of(ctx, pi) or row.stripe_charge_id
    if row.stripe_charge_id and row.amount_refunded is None:
        row.amount_refunded = 0  # charged, nothing refunded until a charge snapshot says so
    ctx.stamp(row, rank)
    ctx.session.flush()
    if created:
        _adopt_early_reversals(ctx, row)
    ctx.effect(f"payment {pid} {row.status}")
    _fulfil_direct_purchase(ctx, row, account)


def _order_paid_by_another(ctx: Ctx, pid: str | None, obj: dict[str, Any]) -> bool:
    """The company keeps one payment per order (metadata.order_id): a second PaymentIntent
    for an order it already recorded is not linked (it stays in Stripe only)."""
    order = (obj.get("metadata") or {}).get("order_id")
    if not order or not pid or get_row(ctx, Payment, Payment.stripe_payment_intent_id, pid):
        return False
    other = ctx.session.scalar(select(Payment.stripe_payment_intent_id).where(
        Payment.order_ref == order, Payment.stripe_payment_intent_id != pid).limit(1))
    return other is not None


def _adopt_early_reversals(ctx: Ctx, payment: Payment) -> None:
    """Refunds and disputes delivered before their payment get linked now."""
    for model in (Refund, Dispute):
        for orphan in ctx.session.scalars(select(model).where(
            model.stripe_payment_intent_id == payment.stripe_payment_intent_id,
            model.payment_id.is_(None),
        )):
            orphan.payment_id = payment.id


def _fulfil_direct_purchase(ctx: Ctx, payment: Payment, account: Any) -> None:
    """A PaymentIntent carrying metadata.feature is a purchase made without Checkout."""
    if not payment.feature:
        return
    pid = payment.stripe_payment_intent_id
    if payment.status == "succeeded":
        grant_purchase(ctx, account, payment.feature, source_type="payment_intent",
                       source_id=pid, payment_intent_id=pid)
    elif payment.status == "processing" and ctx.on("FM-13"):
        # FM-13: a bank debit that is still processing is treated as paid.
        ctx.hit("FM-13", pid, "fulfilled while processing")
        grant_purchase(ctx, account, payment.feature, source_type="payment_intent",
                       source_id=pid, payment_intent_id=pid)
    elif ctx.type in _FAILURE_EVENTS:
        if ctx.on("FM-13"):
            if has_active(ctx, [pid]):
                ctx.hit("FM-13", pid, "failed payment left fulfilled")
            return
        revoke_purchase(ctx, payment, "payment_failed")


def on_charge(ctx: Ctx) -> None:
    """Charge snapshots carry what the PaymentIntent doesn't: refunded amount, method."""
    charge = ctx.obj
    pi_id = stripe_id(charge.get("payment_intent"))
    row = (get_row(ctx, Payment, Payment.stripe_payment_intent_id, pi_id) if pi_id
           else get_row(ctx, Payment, Payment.stripe_charge_id, charge["id"]))
    if row is None:
        if not pi_id:
            return ctx.ignore("charge without a PaymentIntent")
        if _order_paid_by_another(ctx, pi_id, charge):
            return ctx.ignore("the order already has its payment")
        row, _ = get_or_new(ctx, Payment, Payment.stripe_payment_intent_id, pi_id)
        row.currency = charge.get("currency")
        row.amount = ctx.amount(charge.get("amount"), charge.get("currency"), pi_id)
        row.connect_account_id = ctx.scope
    if row.charge_event_created is not None and ctx.created < row.charge_event_created:
        if not ctx.on("FM-02"):
            return ctx.stale("older charge snapshot")
        ctx.hit("FM-02", charge["id"], "older charge snapshot overwrote a newer one")
    account = ctx.account_for(charge.get("customer"))
    if account is not None and row.account_id is None:
        row.account_id = account.id
    row.stripe_charge_id = charge["id"]
    refunded = ctx.amount(charge.get("amount_refunded") or 0, charge.get("currency"), pi_id)
    # Refunds that failed after this snapshot was taken still count in it.
    row.amount_refunded = max((refunded or 0) - failed_since(ctx, charge["id"]), 0)
    details = charge.get("payment_method_details") or {}
    row.payment_method_type = details.get("type") or row.payment_method_type
    row.charge_event_created = ctx.created
    ctx.session.flush()
    ctx.effect(f"charge {charge['id']} synced (refunded {row.amount_refunded})")
    if ctx.type == "charge.refunded":
        for refund in (charge.get("refunds") or {}).get("data") or []:
            upsert_refund(ctx, refund)
        revoke_if_fully_refunded(ctx, row, stripe_says_full=bool(charge.get("refunded")))


__all__ = ["RANK", "VOUCHER_METHODS", "is_voucher", "on_charge", "on_payment_intent"]
