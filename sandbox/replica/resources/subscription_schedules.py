"""Subscription schedules (``sub_sched_``): phases of items a subscription moves through.

Create from ``from_subscription`` (phase 0 = the subscription as it is) or ``customer`` +
``phases`` (``start_date`` now → the subscription is created at once; later →
``not_started`` until then). A phase ends at ``end_date``, after ``iterations`` billing
periods of its first price, or after ``duration``. At a phase end (due work; a renewal
that falls on the same instant applies the transition first) the subscription takes the
next phase's items (prorated per the phase's ``proration_behavior``); after the last
phase the schedule is ``completed`` and, with ``end_behavior=cancel``, the subscription is
canceled. ``release`` detaches the subscription, ``cancel`` cancels both.
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_int
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import subscription_items, subscription_state
from sandbox.replica.resources.billing_periods import recurring_of, shift
from sandbox.replica.templates import apply_metadata

SPEC = ResourceSpec(
    object="subscription_schedule",
    path="/v1/subscription_schedules",
    defaults={"application": None, "canceled_at": None, "completed_at": None,
              "current_phase": None, "released_at": None, "released_subscription": None,
              "subscription": None, "test_clock": None, "customer_account": None,
              "metadata": {}, "end_behavior": "release", "status": "not_started",
              "default_settings": {
                  "application_fee_percent": None, "automatic_tax": {"enabled": False,
                  "liability": None, "disabled_reason": None}, "billing_cycle_anchor":
                  "automatic", "collection_method": None, "default_payment_method": None,
                  "description": None, "invoice_settings": {"account_tax_ids": None,
                  "days_until_due": None, "issuer": {"type": "self"}}, "on_behalf_of": None,
                  "transfer_data": None, "billing_thresholds": None},
              "billing_mode": {"type": "classic", "flexible": None}},
    fields=frozenset(),
    filters={"customer": "customer"},
    operations=frozenset({"list", "retrieve"}),
)
_PARAMS = frozenset({"customer", "from_subscription", "phases", "start_date", "end_behavior",
                     "metadata", "default_settings", "billing_mode", "customer_account"})


def _phases(ctx: Ctx, raw: list[Obj], start: int) -> list[Obj]:
    if not raw:
        raise missing_param("phases")
    phases = []
    for n, params in enumerate(raw):
        items = params.get("items") or []
        if not items:
            raise missing_param(f"phases[{n}][items]")
        prices = [subscription_items.recurring_price(ctx, str(i.get("price") or ""),
                                                     param=f"phases[{n}][items][0][price]")
                  for i in items]
        end = as_int(params, "end_date")
        if end is None:
            interval, count = recurring_of(prices[0])
            if params.get("duration"):
                interval = params["duration"].get("interval") or interval
                count = as_int(params["duration"], "interval_count", default=1)
                end = shift(start, interval, count, 1)
            else:
                end = shift(start, interval, count, as_int(params, "iterations", default=1))
        if end <= start:
            raise invalid_param(f"phases[{n}][end_date]", "Phase end must be after its start.")
        behavior = params.get("proration_behavior") or "create_prorations"
        phases.append({
            "add_invoice_items": [], "application_fee_percent": None,
            "billing_cycle_anchor": None, "billing_thresholds": None,
            "collection_method": params.get("collection_method"),
            "currency": prices[0]["currency"],
            "default_payment_method": params.get("default_payment_method"),
            "default_tax_rates": [], "description": params.get("description"),
            "discounts": [], "end_date": end, "invoice_settings": None,
            "items": [{"billing_thresholds": None, "discounts": [],
                       "metadata": apply_metadata({}, i.get("metadata")), "price": p["id"],
                       "plan": subscription_items.plan_of(p),
                       "quantity": None if subscription_items.is_metered(p)
                       else as_int(i, "quantity", default=1), "tax_rates": []}
                      for i, p in zip(items, prices, strict=True)],
            "metadata": apply_metadata({}, params.get("metadata")), "on_behalf_of": None,
            "proration_behavior": behavior, "start_date": start, "transfer_data": None,
            "trial_end": as_int(params, "trial_end"),
        })
        start = end
    return phases


def _current(sched: Obj, index: int) -> None:
    phase = sched["phases"][index]
    sched["current_phase"] = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    sched["_phase"] = index


def _watch(ctx: Ctx, sched: Obj) -> None:
    ctx.schedule(sched["current_phase"]["end_date"], "subscription_schedule.phase",
                 {"id": sched["id"], "index": sched["_phase"]})


def create(ctx: Ctx, params: Params) -> Obj:
    crud.check_params(params, _PARAMS)
    sched = ctx.new_object(SPEC.object)
    sched["metadata"] = apply_metadata({}, params.get("metadata"))
    if params.get("end_behavior"):
        if params["end_behavior"] not in ("release", "cancel"):
            raise invalid_param("end_behavior", "Invalid end_behavior: release or cancel")
        sched["end_behavior"] = params["end_behavior"]
    if params.get("from_subscription"):
        sub = ctx.get(params["from_subscription"], "subscription", param="from_subscription")
        if sub.get("schedule"):
            raise ApiError(400, f"Subscription {sub['id']} is already attached to a schedule.",
                           param="from_subscription")
        raw = [{"items": [{"price": i["price"]["id"], "quantity": i.get("quantity")}
                          for i in subscription_items.items_of(sub)],
                "end_date": sub["_period"][1]}]
        sched.update(customer=sub["customer"], phases=_phases(ctx, raw, sub["_period"][0]),
                     status="active", subscription=sub["id"])
        _current(sched, 0)
        ctx.insert(sched)
        subscription_state.update(ctx, sub, schedule=sched["id"])
    else:
        if not params.get("customer"):
            raise missing_param("customer")
        customer = ctx.get(params["customer"], "customer", param="customer")
        start = params.get("start_date") or "now"
        start = ctx.now() if start == "now" else as_int(params, "start_date")
        sched.update(customer=customer["id"], phases=_phases(ctx, params.get("phases"),
                                                             max(start, 0)))
        ctx.insert(sched)
        if start <= ctx.now():
            _start(ctx, sched)
        else:
            ctx.schedule(start, "subscription_schedule.start", {"id": sched["id"]})
    ctx.emit("subscription_schedule.created", sched)
    if sched["status"] == "active":
        _watch(ctx, sched)
    return sched


def _start(ctx: Ctx, sched: Obj) -> None:
    from sandbox.replica.resources.subscriptions import create_subscription

    phase = sched["phases"][0]
    params: Obj = {"customer": sched["customer"], "items": [
        {"price": i["price"], "quantity": i["quantity"]} for i in phase["items"]],
        "metadata": phase["metadata"]}
    if phase.get("trial_end"):
        params["trial_end"] = phase["trial_end"]
    for name in ("collection_method", "default_payment_method"):
        if phase.get(name):
            params[name] = phase[name]
    if phase.get("collection_method") == "send_invoice":
        params["days_until_due"] = 30
    sub = create_subscription(ctx, params)
    subscription_state.update(ctx, sub, schedule=sched["id"])
    sched.update(status="active", subscription=sub["id"])
    _current(sched, 0)
    ctx.replace(sched)


def start_due(ctx: Ctx, payload: Obj) -> None:
    sched = ctx.find(payload["id"])
    if sched and sched.get("status") == "not_started":
        _start(ctx, sched)
        ctx.emit("subscription_schedule.updated", sched)
        _watch(ctx, sched)


def _transition(ctx: Ctx, sched: Obj) -> None:
    index = sched["_phase"]
    sub = ctx.get(sched["subscription"], "subscription")
    at = sched["phases"][index]["end_date"]
    if index + 1 >= len(sched["phases"]):
        sched.update(status="completed", completed_at=at, current_phase=None)
        if sched["end_behavior"] == "release":
            sched.update(released_subscription=sub["id"], subscription=None)
            subscription_state.update(ctx, sub, schedule=None)
        ctx.replace(sched)
        ctx.emit("subscription_schedule.completed", sched)
        if sched["end_behavior"] == "cancel":
            subscription_state.cancel(ctx, sub, reason="cancellation_requested")
        return
    nxt = sched["phases"][index + 1]
    by_price = {i["price"]["id"]: i for i in subscription_items.items_of(sub)}
    entries = [{"id": i["id"], "deleted": "true"} for p, i in by_price.items()
               if p not in {x["price"] for x in nxt["items"]}]
    for item in nxt["items"]:
        old = by_price.get(item["price"])
        entry = {"price": item["price"], "quantity": item["quantity"]}
        entries.append({"id": old["id"], **entry} if old else entry)
    from sandbox.replica.resources import subscriptions

    subscriptions.update(ctx, {"items": entries, "proration_behavior":
                               nxt["proration_behavior"], "proration_date": at}, sub["id"])
    _current(sched, index + 1)
    ctx.replace(sched)
    ctx.emit("subscription_schedule.updated", sched)
    _watch(ctx, sched)


def phase_due(ctx: Ctx, payload: Obj) -> None:
    sched = ctx.find(payload["id"])
    if sched and sched.get("status") == "active" and sched.get("_phase") == payload["index"]:
        _transition(ctx, sched)


def apply_due_phase(ctx: Ctx, sub: Obj) -> Obj:
    """Before a renewal at the same instant: run a phase change that is due now."""
    sched = ctx.find(sub.get("schedule") or "")
    if sched and sched.get("status") == "active" and sched["current_phase"] and \
            sched["current_phase"]["end_date"] <= ctx.now():
        _transition(ctx, sched)
    return ctx.get(sub["id"], "subscription")


def update(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"metadata", "end_behavior", "phases",
                                         "default_settings", "proration_behavior"}))
    sched = crud.load(ctx, SPEC, id)
    if sched["status"] not in ("not_started", "active"):
        raise ApiError(400, f"You cannot update a subscription schedule that is "
                       f"{sched['status']}.")
    previous = {}
    if "metadata" in params:
        previous["metadata"] = sched["metadata"]
        sched["metadata"] = apply_metadata(sched["metadata"], params["metadata"])
    if params.get("end_behavior"):
        previous["end_behavior"] = sched["end_behavior"]
        sched["end_behavior"] = params["end_behavior"]
    if params.get("phases"):
        previous["phases"] = sched["phases"]
        start = sched["phases"][0]["start_date"]
        sched["phases"] = _phases(ctx, params["phases"], start)
        if sched["status"] == "active":
            _current(sched, min(sched["_phase"], len(sched["phases"]) - 1))
            _watch(ctx, sched)
    ctx.replace(sched)
    ctx.emit("subscription_schedule.updated", sched, previous=previous)
    return sched


def release(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"preserve_cancel_date"}))
    sched = crud.load(ctx, SPEC, id)
    if sched["status"] not in ("not_started", "active"):
        raise ApiError(400, f"You cannot release a subscription schedule that is "
                       f"{sched['status']}.")
    sub = ctx.find(sched.get("subscription") or "")
    sched.update(status="released", released_at=ctx.now(), current_phase=None,
                 released_subscription=sched.get("subscription"), subscription=None)
    ctx.replace(sched)
    if sub:
        subscription_state.update(ctx, sub, schedule=None)
    ctx.emit("subscription_schedule.released", sched)
    return sched


def cancel(ctx: Ctx, params: Params, id: str) -> Obj:
    crud.check_params(params, frozenset({"invoice_now", "prorate"}))
    sched = crud.load(ctx, SPEC, id)
    if sched["status"] not in ("not_started", "active"):
        raise ApiError(400, f"You cannot cancel a subscription schedule that is "
                       f"{sched['status']}.")
    sched.update(status="canceled", canceled_at=ctx.now(), current_phase=None)
    ctx.replace(sched)
    ctx.emit("subscription_schedule.canceled", sched)
    sub = ctx.find(sched.get("subscription") or "")
    if sub and sub["status"] in subscription_state.LIVE:
        subscription_state.cancel(ctx, sub, reason="cancellation_requested")
    return crud.load(ctx, SPEC, id)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("POST", SPEC.path + "/{id}", update)
    reg.route("POST", SPEC.path + "/{id}/release", release)
    reg.route("POST", SPEC.path + "/{id}/cancel", cancel)
    reg.on_due("subscription_schedule.start", start_due)
    reg.on_due("subscription_schedule.phase", phase_due)
