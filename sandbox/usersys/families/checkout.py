"""checkout.session.* → orders (+ fulfilment of Checkout purchases)."""

from __future__ import annotations

from typing import Any

from sandbox.usersys.context import Ctx, stripe_id, ts
from sandbox.usersys.entitlements import grant_purchase, has_active, revoke
from sandbox.usersys.families._rows import get_or_new
from sandbox.usersys.families.payments import is_voucher
from sandbox.usersys.models import Order

# The company's order states, in their direction of travel.
RANK = {"pending": 0, "awaiting_payment": 1, "paid": 2, "payment_failed": 2, "expired": 2}
ASYNC_EVENTS = ("checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed")


def _order_status(event_type: str, session: dict[str, Any]) -> str:
    if event_type == "checkout.session.async_payment_succeeded":
        return "paid"
    if event_type == "checkout.session.async_payment_failed":
        return "payment_failed"
    if event_type == "checkout.session.expired":
        return "expired"
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return "paid"
    return "awaiting_payment" if session.get("status") == "complete" else "pending"


def on_checkout_session(ctx: Ctx) -> None:
    session = ctx.obj
    sid = session["id"]
    if ctx.type in ASYNC_EVENTS and ctx.on("FM-14"):
        # FM-14: only checkout.session.completed is subscribed/handled.
        ctx.hit("FM-14", sid, f"{ctx.type} ignored")
        return ctx.ignore("FM-14: async payment events not handled")
    failing = ctx.type in ("checkout.session.async_payment_failed", "checkout.session.expired")
    if failing and is_voucher(session) and ctx.on("FM-17"):
        # FM-17: an unpaid voucher is assumed to be paid eventually.
        ctx.hit("FM-17", sid, f"{ctx.type} of a voucher order ignored")
        return ctx.ignore("FM-17: voucher expiry not handled")
    status = _order_status(ctx.type, session)
    rank = RANK[status]
    order, created = get_or_new(ctx, Order, Order.stripe_checkout_session_id, sid)
    if not created and not ctx.fresh(order, rank, sid):
        return ctx.stale("older checkout session snapshot")
    account = ctx.account_for(session.get("customer"))
    currency = session.get("currency")
    order.account_id = account.id if account else order.account_id
    order.status = status
    order.mode = session.get("mode")
    order.payment_status = session.get("payment_status")
    order.amount_total = ctx.amount(session.get("amount_total"), currency, sid)
    order.currency = currency
    order.feature = (session.get("metadata") or {}).get("feature")
    order.stripe_payment_intent_id = stripe_id(session.get("payment_intent"))
    order.stripe_subscription_id = stripe_id(session.get("subscription"))
    order.payment_method_types = ",".join(session.get("payment_method_types") or []) or None
    order.expires_at = ts(session.get("expires_at"))
    if status == "paid" and order.paid_at is None:
        order.paid_at = ctx.now
    ctx.stamp(order, rank)
    ctx.session.flush()
    ctx.effect(f"order {sid} {status}")
    _fulfil(ctx, order, account)


def _fulfil(ctx: Ctx, order: Order, account: Any) -> None:
    if order.mode != "payment" or not order.feature:
        return  # subscription checkouts get access through the subscription
    sid = order.stripe_checkout_session_id
    pi_id = order.stripe_payment_intent_id
    if order.status == "paid":
        grant_purchase(ctx, account, order.feature, source_type="checkout_session",
                       source_id=sid, payment_intent_id=pi_id)
    elif order.status == "awaiting_payment" and ctx.on("FM-13"):
        # FM-13: "completed" is read as "paid" even when the debit is still pending.
        ctx.hit("FM-13", sid, "fulfilled while payment_status=unpaid")
        grant_purchase(ctx, account, order.feature, source_type="checkout_session",
                       source_id=sid, payment_intent_id=pi_id)
    elif order.status == "payment_failed":
        if ctx.on("FM-13"):
            if has_active(ctx, [sid]):
                ctx.hit("FM-13", sid, "failed payment left fulfilled")
            return
        revoke(ctx, sid, "payment_failed")
