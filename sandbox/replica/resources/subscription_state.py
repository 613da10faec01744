"""Subscription statuses and how invoices move them.

    incomplete ──first invoice paid──▶ active ◀──invoice paid── past_due / unpaid
        │ 23 h unpaid                    │ renewal payment fails      │ retries exhausted
        ▼                                ▼                            ▼
    incomplete_expired               past_due ──────────────▶ canceled | unpaid | past_due
    trialing ──trial end──▶ active | past_due | paused | canceled
    paused ──resume──▶ active;   any ──cancel──▶ canceled

Every change is saved and announced as ``customer.subscription.updated`` (with the old
values), ``customer.subscription.deleted`` on cancellation, ``.paused``/``.resumed`` too.
"""

from __future__ import annotations

from typing import Any

from sandbox.replica.context import Ctx
from sandbox.replica.registry import Obj

INCOMPLETE_TTL = 23 * 3600
LIVE = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


def _sub_of(ctx: Ctx, invoice: Obj) -> Obj | None:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    sub = ctx.find(parent.get("subscription") or "")
    return sub if sub and sub.get("object") == "subscription" else None


def update(ctx: Ctx, sub: Obj, event: str = "customer.subscription.updated",
           **fields: Any) -> Obj:
    previous = {k: sub.get(k) for k, v in fields.items() if sub.get(k) != v}
    sub.update(fields)
    ctx.replace(sub)
    if previous:
        ctx.emit(event, sub, previous=previous)
    return sub


def set_status(ctx: Ctx, sub: Obj, status: str, **fields: Any) -> Obj:
    return update(ctx, sub, status=status, **fields)


def cancel(ctx: Ctx, sub: Obj, *, reason: str, comment: str | None = None,
           feedback: str | None = None) -> Obj:
    now = ctx.now()
    previous = {"status": sub["status"], "canceled_at": sub.get("canceled_at"),
                "ended_at": sub.get("ended_at")}
    sub.update(status="canceled", canceled_at=sub.get("canceled_at") or now, ended_at=now,
               cancel_at_period_end=False)
    sub["cancellation_details"] = {"comment": comment, "feedback": feedback, "reason": reason}
    ctx.replace(sub)
    ctx.emit("customer.subscription.deleted", sub, previous=previous)
    _detach_schedule(ctx, sub)
    return sub


def _detach_schedule(ctx: Ctx, sub: Obj) -> None:
    sched = ctx.find(sub.get("schedule") or "")
    if sched and sched.get("status") in ("not_started", "active"):
        sched.update(status="canceled", canceled_at=ctx.now(), current_phase=None)
        ctx.replace(sched)
        ctx.emit("subscription_schedule.canceled", sched)


def expire_incomplete(ctx: Ctx, sub: Obj) -> None:
    """23 h after creation an unpaid ``incomplete`` subscription ends for good."""
    from sandbox.replica.resources.invoice_actions import void

    set_status(ctx, sub, "incomplete_expired", ended_at=ctx.now())
    invoice = ctx.find(sub.get("latest_invoice") or "")
    if invoice and invoice.get("status") == "open":
        void(ctx, invoice)


def invoice_paid(ctx: Ctx, invoice: Obj) -> None:
    sub = _sub_of(ctx, invoice)
    if sub is None or sub["status"] not in ("incomplete", "past_due", "unpaid"):
        return
    if sub["status"] != "incomplete" and sub.get("latest_invoice") != invoice["id"]:
        latest = ctx.find(sub.get("latest_invoice") or "") or {}
        if latest.get("status") == "open" and latest.get("attempted"):
            return  # a newer invoice is still failing
    set_status(ctx, sub, "active")


def invoice_failed(ctx: Ctx, invoice: Obj, *, exhausted: bool) -> None:
    sub = _sub_of(ctx, invoice)
    if sub is None or sub["status"] not in LIVE:
        return
    if sub["status"] == "incomplete":
        if ctx.now() >= sub["created"] + INCOMPLETE_TTL:
            expire_incomplete(ctx, sub)
        return
    if sub["status"] in ("active", "trialing"):
        set_status(ctx, sub, "past_due")
    if not exhausted:
        return
    from sandbox.replica.resources.dunning import end_state

    final = end_state(sub)
    if final == "canceled":
        cancel(ctx, sub, reason="payment_failed")
    elif final == "unpaid":
        set_status(ctx, sub, "unpaid")


def invoice_needs_action(ctx: Ctx, invoice: Obj) -> None:
    sub = _sub_of(ctx, invoice)
    if sub is not None and sub["status"] in ("active", "trialing") \
            and invoice["billing_reason"] != "subscription_create":
        set_status(ctx, sub, "past_due")


def invoice_closed(ctx: Ctx, invoice: Obj) -> None:
    """The latest invoice was voided or written off: nothing is overdue any more."""
    sub = _sub_of(ctx, invoice)
    if sub is not None and sub["status"] in ("past_due", "unpaid") \
            and sub.get("latest_invoice") == invoice["id"]:
        set_status(ctx, sub, "active")
