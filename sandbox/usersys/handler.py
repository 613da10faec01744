"""`apply_event`: the company's webhook processing as a plain function.

The webhook app calls it once per verified delivery; the world generator calls it directly to
apply many events without HTTP. Correct behaviour by default:

- idempotent: an event id already in ``processed_webhooks`` is not applied again; the log row
  is written in the caller's transaction, together with the effects (unique ``event_id``)
- out-of-order safe: a snapshot older than the row's watermark (``event.created``, then the
  status rank for snapshots of the same second) is not written (outcome ``stale``)
- Connect: rows carry ``event.account`` as ``connect_account_id``
- entitlements follow the policy in entitlements.py; amounts are stored exactly
- unknown event types are acknowledged (``ignored``), never answered with an error
- payloads rendered for an endpoint pinned to an older API version (invoice ``subscription``,
  subscription ``current_period_*`` at the top level, PaymentIntent ``charges``) are read in
  their own shape; FM-05 reads the 2025-03-31+ shape only and leaves those fields empty

Contract with the caller: run it inside a transaction and commit unless the outcome is
``failed`` (then roll back — the app answers 500 and Stripe retries). Failing branches raise
before anything is written. Bug switches (see sandbox/bugs.py) bend individual branches; every
bent decision is reported in ``outcome.bug_hits`` for the ground-truth manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sandbox.usersys.context import Ctx, HandlerFailed, HandlerOutcome
from sandbox.usersys.families.cash_balance import on_cash_balance_transaction
from sandbox.usersys.families.checkout import on_checkout_session
from sandbox.usersys.families.customers import on_customer
from sandbox.usersys.families.disputes import on_dispute
from sandbox.usersys.families.invoices import on_invoice, on_invoice_payment
from sandbox.usersys.families.payments import on_charge, on_payment_intent
from sandbox.usersys.families.refunds import on_refund
from sandbox.usersys.families.subscriptions import on_subscription
from sandbox.usersys.models import ProcessedWebhook, by_key

Family = Callable[[Ctx], None]
_LOG = insert(ProcessedWebhook.__table__)

# Exact event types first; then the longest matching ``prefix.`` wins.
ROUTES: dict[str, Family] = {
    "customer.created": on_customer,
    "customer.updated": on_customer,
    "customer.deleted": on_customer,
    "invoice_payment.paid": on_invoice_payment,
    "customer_cash_balance_transaction.created": on_cash_balance_transaction,
    "charge.refund.updated": on_refund,
    "charge.refunded": on_charge,
    "invoice.upcoming": lambda ctx: ctx.ignore("preview invoice, no id"),
    "invoice.deleted": lambda ctx: ctx.ignore("draft deleted"),
}
PREFIX_ROUTES: dict[str, Family] = {
    "customer.subscription.": on_subscription,
    "invoice.": on_invoice,
    "payment_intent.": on_payment_intent,
    "charge.dispute.": on_dispute,
    "charge.": on_charge,
    "refund.": on_refund,
    "checkout.session.": on_checkout_session,
}


def route(event_type: str) -> Family | None:
    if event_type in ROUTES:
        return ROUTES[event_type]
    for prefix in sorted(PREFIX_ROUTES, key=len, reverse=True):
        if event_type.startswith(prefix):
            return PREFIX_ROUTES[prefix]
    return None


def apply_event(
    session: Session,
    event: dict[str, Any],
    *,
    bugs: frozenset[str] = frozenset(),
    now: datetime | None = None,
    expected_livemode: bool | None = None,
) -> HandlerOutcome:
    """Apply one Stripe event to the company DB (inside the caller's transaction)."""
    now = now or datetime.now(UTC)
    obj = (event.get("data") or {}).get("object") or {}
    outcome = HandlerOutcome(event_id=event["id"], event_type=event["type"],
                             object_id=obj.get("id"))
    ctx = Ctx(session=session, event=event, bugs=bugs, now=now, outcome=outcome)
    seen = session.scalar(by_key(ProcessedWebhook, "event_id"), {"key": event["id"]})
    if seen is not None and not ctx.on("FM-03"):
        outcome.status, outcome.detail = "duplicate", f"already processed at {seen.received_at}"
        return outcome
    if expected_livemode is not None and bool(event.get("livemode")) != expected_livemode:
        if not ctx.on("FM-08"):
            ctx.ignore(f"livemode={event.get('livemode')} event on a "
                       f"{'live' if expected_livemode else 'test'} deployment")
            return _logged(ctx, seen)
        # FM-08: a wrong-mode event is applied like any other.
        ctx.hit("FM-08", obj.get("id"), "wrong-mode event applied")
    family = route(event["type"])
    if family is None:
        ctx.ignore("event type not handled")
        return _logged(ctx, seen)
    try:
        family(ctx)
    except HandlerFailed as exc:
        outcome.status, outcome.detail = "failed", str(exc)
        return outcome
    return _logged(ctx, seen)


def _logged(ctx: Ctx, seen: ProcessedWebhook | None) -> HandlerOutcome:
    ctx.session.flush()
    if seen is None:  # with FM-03 a redelivery runs again but the log keeps its first row
        event = ctx.event
        # A plain INSERT: the log row is never read back through this session, so the unit of
        # work would only add cost to every event.
        ctx.session.execute(_LOG, {
            "event_id": event["id"], "type": event["type"],
            "object_id": ctx.outcome.object_id,
            # FM-22: the team never reads event.account, not even for its log.
            "connect_account_id": None if ctx.on("FM-22") else event.get("account"),
            "livemode": bool(event.get("livemode")),
            "api_version": event.get("api_version"),
            "event_created": datetime.fromtimestamp(int(event["created"]), UTC),
            "received_at": ctx.now, "outcome": ctx.outcome.status,
        })
    return ctx.outcome


__all__ = ["HandlerOutcome", "apply_event", "route"]
