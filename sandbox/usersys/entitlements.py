"""Who gets access to what: the company's entitlement policy.

- subscription access: feature = the subscription's plan; active while the subscription is
  ``trialing``, ``active`` or ``past_due`` (dunning grace); revoked on ``unpaid``,
  ``canceled``, ``incomplete``, ``incomplete_expired``, ``paused``
- one-off purchase: feature = ``metadata.feature`` of the Checkout Session (mode=payment) or of
  a PaymentIntent created directly; granted only on final success, revoked on full refund,
  on a dispute (not an inquiry) and on a failed debit
- connected-account objects never grant platform entitlements (they are the merchants' sales)
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from sandbox.usersys.context import Ctx
from sandbox.usersys.models import (
    Account,
    Dispute,
    Entitlement,
    Order,
    Payment,
    Refund,
    Subscription,
)

ENTITLED_STATUSES = frozenset({"trialing", "active", "past_due"})
REFUNDING_STATUSES = ("pending", "succeeded")  # refunds that move money back to the customer


def withdraws_funds(status: str | None) -> bool:
    """Inquiries (warning_*) and prevented disputes don't take money back; the rest do."""
    return bool(status) and not str(status).startswith("warning_") and status != "prevented"


def purchase_reversal(ctx: Ctx, payment_intent_id: str | None) -> str | None:
    """Why a purchase paid by this intent must not be granted: refunded, disputed, or None.

    Looked up by Stripe ids, so a refund or dispute that arrived before the payment counts.
    """
    if not payment_intent_id:
        return None
    payment = ctx.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == payment_intent_id)
    )
    charge_id = payment.stripe_charge_id if payment else None
    match = [Dispute.stripe_payment_intent_id == payment_intent_id]
    if charge_id:
        match.append(Dispute.stripe_charge_id == charge_id)
    statuses = ctx.session.scalars(select(Dispute.status).where(or_(*match)))
    if any(withdraws_funds(status) for status in statuses):
        return "disputed"
    if payment is None or not payment.amount:
        return None
    refunded = ctx.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.stripe_payment_intent_id == payment_intent_id,
            Refund.status.in_(REFUNDING_STATUSES),
        )
    )
    if max(refunded or 0, payment.amount_refunded or 0) >= payment.amount:
        return "refunded"
    return None


def _active(ctx: Ctx, source_id: str, feature: str | None = None) -> list[Entitlement]:
    query = select(Entitlement).where(Entitlement.source_id == source_id, Entitlement.active)
    if feature is not None:
        query = query.where(Entitlement.feature == feature)
    return list(ctx.session.scalars(query))


def has_active(ctx: Ctx, sources: list[str]) -> bool:
    query = select(Entitlement.id).where(Entitlement.source_id.in_(sources), Entitlement.active)
    return ctx.session.scalar(query.limit(1)) is not None


def grant(
    ctx: Ctx, account: Account | None, feature: str, *, source_type: str, source_id: str
) -> None:
    if account is None:
        ctx.effect(f"no account to grant {feature} from {source_id}")
        return
    if ctx.scope is not None:
        return
    if ctx.event.get("account") and ctx.on("FM-22"):
        ctx.hit("FM-22", source_id, f"platform entitlement {feature} from {ctx.event['account']}")
    existing = _active(ctx, source_id, feature)
    if existing and not ctx.on("FM-03"):
        return
    if existing:
        # FM-03: fulfilment keyed on the event, not on the payment: one more row.
        ctx.hit("FM-03", source_id, f"second active {feature} entitlement for {source_id}")
    ctx.session.add(Entitlement(
        account_id=account.id, feature=feature, active=True, granted_at=ctx.now,
        source_type=source_type, source_id=source_id,
    ))
    ctx.effect(f"granted {feature} to account {account.id} from {source_id}")


def grant_purchase(
    ctx: Ctx, account: Account | None, feature: str, *, source_type: str, source_id: str,
    payment_intent_id: str | None,
) -> None:
    reversal = purchase_reversal(ctx, payment_intent_id)
    if reversal is not None:
        ctx.effect(f"{feature} from {source_id} not granted: payment {reversal}")
        return
    grant(ctx, account, feature, source_type=source_type, source_id=source_id)


def revoke(ctx: Ctx, source_id: str, reason: str, *, feature: str | None = None) -> int:
    rows = _active(ctx, source_id, feature)
    for row in rows:
        row.active = False
        row.revoked_at = ctx.now
        row.revoke_reason = reason
        ctx.effect(f"revoked {row.feature} from {source_id} ({reason})")
    return len(rows)


def purchase_sources(ctx: Ctx, payment: Payment) -> list[str]:
    """The entitlement sources paid by `payment`: itself and Checkout Sessions it paid."""
    sessions = ctx.session.scalars(
        select(Order.stripe_checkout_session_id).where(
            Order.stripe_payment_intent_id == payment.stripe_payment_intent_id
        )
    )
    return [payment.stripe_payment_intent_id, *sessions]


def revoke_purchase(ctx: Ctx, payment: Payment, reason: str) -> int:
    return sum(revoke(ctx, source, reason) for source in purchase_sources(ctx, payment))


def _subscription_entitled(ctx: Ctx, sub: Subscription, had_access: bool) -> bool:
    status = sub.status or ""
    if status in ENTITLED_STATUSES:
        return True
    sid = sub.stripe_subscription_id
    if status in ("incomplete", "incomplete_expired") and ctx.on("FM-10"):
        # FM-10: provisioned on creation, whatever the first payment did.
        ctx.hit("FM-10", sid, f"access kept/granted while {status}")
        return True
    if status == "paused" and ctx.on("FM-34"):
        # FM-34: the access rule has no branch for paused.
        if had_access:
            ctx.hit("FM-34", sid, "access kept while paused")
        return had_access
    voluntary = status == "canceled" and sub.cancellation_reason == "cancellation_requested"
    if status in ("unpaid", "canceled") and not voluntary and ctx.on("FM-19"):
        # FM-19: access waits for a voluntary cancellation the dunning settings never produce.
        if had_access:
            ctx.hit("FM-19", sid, f"access kept at dunning end state {status}")
        return had_access
    return False


def sync_subscription_access(ctx: Ctx, sub: Subscription, account: Account | None) -> None:
    if ctx.scope is not None or account is None:
        return
    source = sub.stripe_subscription_id
    current = _active(ctx, source)
    if _subscription_entitled(ctx, sub, had_access=bool(current)):
        for row in current:
            if row.feature != sub.plan:
                revoke(ctx, source, "plan_changed", feature=row.feature)
        if sub.plan and not any(row.feature == sub.plan for row in current):
            grant(ctx, account, sub.plan, source_type="subscription", source_id=source)
    elif current:
        revoke(ctx, source, f"subscription_{sub.status}")


__all__ = [
    "ENTITLED_STATUSES", "grant", "grant_purchase", "has_active", "purchase_reversal",
    "purchase_sources", "withdraws_funds", "revoke", "revoke_purchase",
    "sync_subscription_access",
]
