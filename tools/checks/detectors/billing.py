"""Subscription access and sync: incomplete signups, dunning end states, portal changes,
trials that end without a payment method."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext, path
from tools.checks.declare import check
from tools.checks.model import Check, Finding

_ENTITLEMENT_POLICY = ("entitlements-from-subscription-status",)


def _active_access(ctx: CheckContext, statuses: set[str]) -> Iterator[tuple[dict, list[dict]]]:
    for sub in ctx.of("subscription"):
        if sub.get("status") in statuses:
            rows = ctx.entitlements(sub["id"])
            if rows:
                yield sub, rows


@check("billing.incomplete_expiry_handled", "FM-10", "Access granted on an incomplete signup",
       severity="high", products=("Billing", "Checkout"),
       patterns=("incomplete-subscription-first-payment", *_ENTITLEMENT_POLICY),
       discrepancy_class="ORPHAN_APPLICATION",
       fix="Revoke the entitlements of incomplete / incomplete_expired subscriptions.",
       systemic_fix="""Provision on the transition to active/trialing, never on
       customer.subscription.created; handle incomplete_expired by closing the signup.""")
def incomplete_access(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for sub, rows in _active_access(ctx, {"incomplete", "incomplete_expired"}):
        yield c.finding(sub["id"], [sub["id"], *(r.get("local_key") for r in rows)],
                        f"subscription {sub['id']} is {sub['status']} (first payment never "
                        f"completed) but grants {len(rows)} active entitlement(s).")


@check("billing.dunning_end_state_handled", "FM-19", "Access kept after dunning ended",
       severity="high", products=("Billing",), patterns=("dunning-end-states",
                                                         *_ENTITLEMENT_POLICY),
       discrepancy_class="STALE_STATE",
       fix="Revoke access for subscriptions that ended dunning unpaid or canceled.",
       systemic_fix="""Derive access from the subscription status for every end state
       (unpaid, canceled whatever the cancellation reason), written down as a policy
       table.""")
def dunning_access(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for sub, rows in _active_access(ctx, {"unpaid", "canceled"}):
        local = ctx.row("subscription", sub["id"])
        if not ctx.same("subscription", "status", local, sub["status"]):
            continue  # the end state never reached the app: a delivery problem, not policy
        reason = path(sub, "cancellation_details.reason")
        yield c.finding(sub["id"], [sub["id"], sub.get("latest_invoice"),
                                    *(r.get("local_key") for r in rows)],
                        f"subscription {sub['id']} is {sub['status']}"
                        f"{f' ({reason})' if reason else ''} but keeps {len(rows)} active "
                        "entitlement(s).", details={"status": sub["status"], "reason": reason})


_PORTAL_FIELDS = (("quantity", "items.data[0].quantity"), ("price", "items.data[0].price.id"),
                  ("cancel_at_period_end", "cancel_at_period_end"))


@check("billing.portal_events_handled", "FM-33", "Subscription changes made outside the app "
       "not synced", severity="high", products=("Billing", "Invoicing"),
       patterns=("customer-portal-sync",), discrepancy_class="STALE_STATE",
       needs=frozenset({"stripe", "events", "local"}),
       needs_any=frozenset({"pending", "processed", "export"}),
       fix="Resync the subscriptions from the API (items, quantity, cancel_at_period_end).",
       systemic_fix="""Apply every field of customer.subscription.updated (or re-fetch), not
       just the status; treat Stripe as the source of truth for billing state.""")
def portal_changes(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, sub in ctx.iter_local_with_stripe("subscription", "subscription"):
        if not ctx.same("subscription", "status", row, sub.get("status")):
            continue
        differing = [name for name, p in _PORTAL_FIELDS
                     if name in row and row.get(name) != path(sub, p)
                     and not (name == "cancel_at_period_end" and not row.get(name)
                              and not path(sub, p))]
        if not differing:
            continue
        updates = [e for e in ctx.events_for(sub["id"], ["customer.subscription.updated"])
                   if ctx.delivered(e["id"])]
        if updates:
            yield c.finding(sub["id"], [sub["id"], updates[-1]["id"]],
                            f"subscription {sub['id']}: {', '.join(differing)} changed in "
                            "Stripe (customer.subscription.updated delivered) but not "
                            "locally.", details={"fields": ",".join(differing)})


@check("billing.trial_missing_pm_explicit", "FM-34", "Paused subscription keeps access",
       severity="medium", products=("Billing", "Checkout"),
       patterns=("trial-without-payment-method", *_ENTITLEMENT_POLICY),
       discrepancy_class="STALE_STATE",
       fix="Revoke access of paused subscriptions and send the add-a-card flow.",
       systemic_fix="""Set trial_settings.end_behavior.missing_payment_method explicitly and
       handle customer.subscription.paused / resumed in the access rule.""")
def paused_access(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for sub, rows in _active_access(ctx, {"paused"}):
        yield c.finding(sub["id"], [sub["id"], *(r.get("local_key") for r in rows)],
                        f"subscription {sub['id']} is paused (trial ended without a payment "
                        f"method) but keeps {len(rows)} active entitlement(s).")


CHECKS = [incomplete_access, dunning_access, portal_changes, paused_access]
