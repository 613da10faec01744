"""customer.subscription.* → subscriptions (+ subscription access)."""

from __future__ import annotations

from typing import Any

from sandbox.usersys.context import Ctx, same, ts
from sandbox.usersys.entitlements import sync_subscription_access
from sandbox.usersys.families._rows import get_or_new
from sandbox.usersys.models import Subscription

# Tie-breaker for snapshots of the same second: the usual direction of travel.
RANK = {"incomplete": 0, "trialing": 1, "active": 2, "past_due": 3, "unpaid": 4, "paused": 4,
        "canceled": 5, "incomplete_expired": 5}
# Fields FM-33 never syncs after creation (changes made in the portal / Dashboard).
_PORTAL_FIELDS = ("plan", "seats", "cancel_at_period_end", "current_period_end")


def _period(ctx: Ctx | None, sub: dict[str, Any], item: dict[str, Any]) -> tuple[Any, Any]:
    # API 2025-03-31+: billing periods live on the items; an endpoint pinned to an older
    # version still sends them on the subscription.
    if "current_period_end" in item or "current_period_end" not in sub:
        return item.get("current_period_start"), item.get("current_period_end")
    if ctx is not None and ctx.on("FM-05"):
        # FM-05: written for the new shape only; the old one leaves the period empty.
        ctx.hit("FM-05", sub.get("id"), "old-shape subscription: period left empty")
        return None, None
    return sub.get("current_period_start"), sub.get("current_period_end")


def _snapshot(sub: dict[str, Any], ctx: Ctx | None = None) -> dict[str, Any]:
    """The row's values from a snapshot (`ctx` carries the bug switches; the bulk world
    generator passes none)."""
    items = (sub.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = item.get("price") or {}
    start, end = _period(ctx, sub, item)
    return {
        "status": sub.get("status"),
        "plan": price.get("lookup_key") or price.get("id"),
        "stripe_price_id": price.get("id"),
        "seats": item.get("quantity"),
        "currency": sub.get("currency"),
        "current_period_start": ts(start),
        "current_period_end": ts(end),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "canceled_at": ts(sub.get("canceled_at")),
        "cancellation_reason": (sub.get("cancellation_details") or {}).get("reason"),
        "trial_end": ts(sub.get("trial_end")),
    }


def on_subscription(ctx: Ctx) -> None:
    sub = ctx.obj
    sid = sub["id"]
    if ctx.type in ("customer.subscription.paused", "customer.subscription.resumed") and ctx.on(
        "FM-34"
    ):
        # FM-34: no branch for pause/resume.
        ctx.hit("FM-34", sid, f"{ctx.type} ignored")
        return ctx.ignore("FM-34: pause/resume not handled")
    rank = RANK.get(sub.get("status") or "", 0)
    row, created = get_or_new(ctx, Subscription, Subscription.stripe_subscription_id, sid)
    if not created and not ctx.fresh(row, rank, sid):
        return ctx.stale("older subscription snapshot")
    account = ctx.account_for(sub.get("customer"))
    values = _snapshot(sub, ctx)
    if ctx.on("FM-33") and ctx.type == "customer.subscription.updated" and row.status:
        # FM-33: the app believes it is the only writer of plan/seats/cancellation.
        changed = [f for f in _PORTAL_FIELDS if not same(getattr(row, f), values[f])]
        if changed:
            ctx.hit("FM-33", sid, f"not synced: {', '.join(changed)}")
        values = {"status": values["status"]}
    for name, value in values.items():
        setattr(row, name, value)
    row.account_id = account.id if account else None
    ctx.stamp(row, rank)
    ctx.session.flush()
    ctx.effect(f"subscription {sid} {row.status}")
    sync_subscription_access(ctx, row, account)
