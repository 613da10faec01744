"""A subscription on the replica clock: renewals, trial end, expiry, scheduled cancellation.

Due work (each handler re-checks the subscription, so stale items are harmless):

    subscription.renew           at the period end: cancel (cancel_at_period_end) or roll
                                 the period and issue a ``subscription_cycle`` invoice
                                 (metered usage in arrears, licensed in advance), finalised
                                 and collected an hour later
    subscription.upcoming        ``invoice.upcoming`` (a preview) 3 days before a renewal
    subscription.trial_will_end  3 days before the trial ends
    subscription.trial_end       → active + first paid period's invoice, or paused /
                                 canceled without a payment method (``trial_settings``)
    subscription.expire          23 h after creation, still ``incomplete`` → expired
    subscription.cancel_at       ``cancel_at`` reached
    subscription.unpause         ``pause_collection.resumes_at`` reached
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.registry import Obj, Registry
from sandbox.replica.resources import invoice_payments, subscription_invoices, subscription_state
from sandbox.replica.resources.billing_periods import DAY, next_period, recurring_of, shift
from sandbox.replica.resources.subscription_items import items_of, save_all

TRIAL_WARNING = 3 * DAY
UPCOMING_WARNING = 3 * DAY  # Stripe: "upcoming renewal events", an account setting
_BILLING = ("active", "past_due", "unpaid")


def _once(ctx: Ctx, sub: Obj, kind: str, at: int | None) -> None:
    if at is None:
        return
    done = sub.setdefault("_scheduled", {})
    if done.get(kind) == at:
        return
    done[kind] = at
    ctx.schedule(at, f"subscription.{kind}", {"id": sub["id"], "at": at})


def plan(ctx: Ctx, sub: Obj, *, changed: set[str] | None = None) -> None:
    """Schedule whatever the subscription's state makes due (idempotent)."""
    before = copy.deepcopy(sub.get("_scheduled"))
    status = sub["status"]
    if status == "trialing":
        if sub.pop("_end_trial_now", False):
            sub["trial_end"] = ctx.now()
            ctx.replace(sub)
            end_trial(ctx, {"id": sub["id"], "at": sub["trial_end"]})
            return
        _once(ctx, sub, "trial_will_end", max(ctx.now(), sub["trial_end"] - TRIAL_WARNING))
        _once(ctx, sub, "trial_end", sub["trial_end"])
    if status in _BILLING:
        _once(ctx, sub, "renew", sub["_period"][1])
        if sub["_period"][1] - UPCOMING_WARNING > ctx.now():
            _once(ctx, sub, "upcoming", sub["_period"][1] - UPCOMING_WARNING)
    if status == "incomplete":
        _once(ctx, sub, "expire", sub["created"] + subscription_state.INCOMPLETE_TTL)
    if sub.get("cancel_at") and sub["cancel_at"] != sub["_period"][1]:
        _once(ctx, sub, "cancel_at", sub["cancel_at"])
    resumes = (sub.get("pause_collection") or {}).get("resumes_at")
    _once(ctx, sub, "unpause", resumes)
    if sub.get("_scheduled") != before:
        ctx.replace(sub)


def _live(ctx: Ctx, payload: Obj) -> Obj | None:
    sub = ctx.find(payload["id"])
    if not sub or sub.get("object") != "subscription" or sub.get("deleted"):
        return None
    return sub


def _roll(ctx: Ctx, sub: Obj, new: tuple[int, int], **fields: object) -> Obj:
    """Move the subscription (and its items) into period `new`; returns the before-image."""
    before = copy.deepcopy(sub)
    sub["_period"] = list(new)
    for item in items_of(sub):
        item.update(current_period_start=new[0], current_period_end=new[1])
    sub.update(fields)
    return before


def _announce(ctx: Ctx, sub: Obj, before: Obj) -> None:
    save_all(ctx, sub)
    changed = crud.diff(public(before), public(sub))
    if changed:
        ctx.emit("customer.subscription.updated", sub, previous=changed)


def renew(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is None or sub["status"] not in _BILLING or sub["_period"][1] != payload["at"]:
        return
    from sandbox.replica.resources import subscription_schedules

    sub = subscription_schedules.apply_due_phase(ctx, sub)
    at = payload["at"]
    if sub["status"] not in _BILLING:
        return
    if sub.get("cancel_at_period_end") or (sub.get("cancel_at") and sub["cancel_at"] <= at):
        final_invoice(ctx, sub, period=(sub["_period"][0], at))
        subscription_state.cancel(ctx, ctx.get(sub["id"], "subscription"),
                                  reason="cancellation_requested")
        return
    old = (sub["_period"][0], at)
    interval, count = recurring_of(items_of(sub)[0]["price"])
    new = next_period(sub["_anchor"], interval, count, at)
    before = _roll(ctx, sub, new)
    invoice = subscription_invoices.draft(ctx, sub, billing_reason="subscription_cycle",
                                          period=old, advance=new, arrears=old)
    sub["latest_invoice"] = invoice["id"]
    _announce(ctx, sub, before)
    subscription_invoices.issue(ctx, sub, invoice, now=False)
    plan(ctx, ctx.get(sub["id"], "subscription"))


def _payment_method(ctx: Ctx, sub: Obj) -> str | None:
    customer = ctx.find(sub["customer"]) or {}
    return sub.get("default_payment_method") or (
        customer.get("invoice_settings") or {}).get("default_payment_method")


def end_trial(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is None or sub["status"] != "trialing" or sub["trial_end"] != payload["at"]:
        return
    at = payload["at"]
    missing = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
    if sub["collection_method"] == "charge_automatically" and not _payment_method(ctx, sub):
        if missing == "pause":
            subscription_state.set_status(ctx, sub, "paused")
            ctx.emit("customer.subscription.paused", sub)
            return
        if missing == "cancel":
            subscription_state.cancel(ctx, sub, reason="cancellation_requested")
            return
    interval, count = recurring_of(items_of(sub)[0]["price"])
    new = (at, shift(at, interval, count, 1))
    trial = (sub["_period"][0], at)
    before = _roll(ctx, sub, new, status="active", billing_cycle_anchor=at)
    sub["_anchor"] = at
    invoice = subscription_invoices.draft(ctx, sub, billing_reason="subscription_cycle",
                                          period=trial, advance=new, arrears=None)
    sub["latest_invoice"] = invoice["id"]
    _announce(ctx, sub, before)
    subscription_invoices.issue(ctx, sub, invoice, now=False)
    plan(ctx, ctx.get(sub["id"], "subscription"))


def upcoming(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is None or sub["status"] not in _BILLING or sub.get("cancel_at_period_end") or \
            sub["_period"][1] != payload["at"] + UPCOMING_WARNING:
        return
    from sandbox.replica.resources.invoice_preview import preview_subscription

    ctx.emit("invoice.upcoming", preview_subscription(ctx, sub["id"]))


def trial_will_end(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is not None and sub["status"] == "trialing":
        ctx.emit("customer.subscription.trial_will_end", sub)


def expire(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is None or sub["status"] != "incomplete":
        return
    for record in invoice_payments.of_invoice(ctx, sub.get("latest_invoice") or ""):
        pi = ctx.find(record["payment"].get("payment_intent") or "") or {}
        if record["status"] == "open" and pi.get("status") == "processing":
            return  # a debit is in flight: its outcome decides (see subscription_state)
    subscription_state.expire_incomplete(ctx, sub)


def cancel_at(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is not None and sub["status"] in subscription_state.LIVE \
            and sub.get("cancel_at") == payload["at"]:
        subscription_state.cancel(ctx, sub, reason="cancellation_requested")


def unpause(ctx: Ctx, payload: Obj) -> None:
    sub = _live(ctx, payload)
    if sub is not None and (sub.get("pause_collection") or {}).get("resumes_at") == \
            payload["at"]:
        subscription_state.update(ctx, sub, pause_collection=None)


def restart(ctx: Ctx, sub: Obj, *, billing_reason: str, arrears: bool = False,
            event: str | None = None) -> Obj:
    """A new period anchored now, billed at once (resume, interval change, anchor=now);
    with `arrears`, metered usage of the cut-short period is billed too."""
    now = ctx.now()
    interval, count = recurring_of(items_of(sub)[0]["price"])
    new, used = (now, shift(now, interval, count, 1)), (sub["_period"][0], now)
    before = _roll(ctx, sub, new, status="active", billing_cycle_anchor=now)
    sub["_anchor"] = now
    invoice = subscription_invoices.draft(ctx, sub, billing_reason=billing_reason,
                                          period=used if arrears else (now, now), advance=new,
                                          arrears=used if arrears else None)
    sub["latest_invoice"] = invoice["id"]
    _announce(ctx, sub, before)
    if event:
        ctx.emit(event, sub)
    subscription_invoices.issue(ctx, sub, invoice, now=True)
    plan(ctx, ctx.get(sub["id"], "subscription"))
    return ctx.get(sub["id"], "subscription")


def resume(ctx: Ctx, sub: Obj) -> Obj:
    """paused → active from now: a new period anchored now, billed at once."""
    return restart(ctx, sub, billing_reason="subscription_cycle",
                   event="customer.subscription.resumed")


def final_invoice(ctx: Ctx, sub: Obj, *, period: tuple[int, int] | None = None) -> Obj | None:
    """Usage since the period start and pending prorations, billed when a subscription ends."""
    period = period or (sub["_period"][0], ctx.now())
    invoice = subscription_invoices.draft(ctx, sub, billing_reason="subscription_cycle",
                                          period=period, advance=None, arrears=period)
    if not invoice["lines"]["data"]:
        return None
    return subscription_invoices.issue(ctx, sub, invoice, now=True)


def register(reg: Registry) -> None:
    reg.on_due("subscription.renew", renew)
    reg.on_due("subscription.trial_end", end_trial)
    reg.on_due("subscription.trial_will_end", trial_will_end)
    reg.on_due("subscription.upcoming", upcoming)
    reg.on_due("subscription.expire", expire)
    reg.on_due("subscription.cancel_at", cancel_at)
    reg.on_due("subscription.unpause", unpause)
