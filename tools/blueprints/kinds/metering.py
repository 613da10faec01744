"""Metering: billing meters by event_name, usage rows as meter events, late-usage policy.

A meter's aggregation and payload keys cannot change in Stripe: such a change deactivates
the old meter and creates a new one. Usage rows become meter events whose identifier is
``{blueprint}:{row id}``; Stripe has no list of meter events, so which rows were sent is
the apply ledger in the app DB (and Stripe dedupes a re-sent identifier anyway).
Meters that leave the file are left alone: meters carry no metadata that would prove this
blueprint made them, and deactivating someone else's meter stops their billing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tools.blueprints import state
from tools.blueprints.context import BlueprintContext
from tools.blueprints.kinds.settings import setting_item
from tools.blueprints.plan import Desired, Observed, PlanItem, Write, diff
from tools.blueprints.spec_usage import MeteringBlueprint, MeterSpec
from tools.blueprints.usage import UsageRow, read_csv, read_sql

__all__ = ["plan_metering"]

_IMMUTABLE = frozenset({"aggregation", "customer_key", "value_key"})
STRIPE_MAX_AGE = 35 * 86400  # Stripe refuses meter events older than 35 days
FUTURE_SLACK = 300


def _desired(m: MeterSpec) -> Desired:
    return Desired(key=f"meter:{m.event_name}", object="billing.meter", immutable=_IMMUTABLE,
                   fields={"display_name": m.display_name, "aggregation": m.aggregation,
                           "customer_key": m.customer_key, "value_key": m.value_key,
                           "status": "active"})


def _observed(obj: dict[str, Any]) -> Observed:
    return Observed(key=f"meter:{obj['event_name']}", object="billing.meter", id=obj["id"],
                    managed=False, fields={
                        "display_name": obj.get("display_name"),
                        "aggregation": (obj.get("default_aggregation") or {}).get("formula"),
                        "customer_key": (obj.get("customer_mapping") or {}).get(
                            "event_payload_key"),
                        "value_key": (obj.get("value_settings") or {}).get("event_payload_key"),
                        "status": obj.get("status")})


def _create(m: MeterSpec) -> Write:
    return Write(path="/v1/billing/meters", params={
        "event_name": m.event_name, "display_name": m.display_name,
        "default_aggregation": {"formula": m.aggregation},
        "customer_mapping": {"event_payload_key": m.customer_key, "type": "by_id"},
        "value_settings": {"event_payload_key": m.value_key}})


def _meter_item(m: MeterSpec, have: Observed | None) -> PlanItem:
    want = _desired(m)
    action, changes = diff(want, have)
    writes: list[Write] = []
    if action == "create":
        writes = [_create(m)]
    elif action == "replace" and have is not None:
        writes = [Write(path=f"/v1/billing/meters/{have.id}/deactivate"), _create(m)]
    elif action == "update" and have is not None:
        for c in changes:
            if c.field == "display_name":
                writes.append(Write(path=f"/v1/billing/meters/{have.id}",
                                    params={"display_name": m.display_name}))
            elif c.field == "status":
                writes.append(Write(path=f"/v1/billing/meters/{have.id}/reactivate"))
    return PlanItem(key=want.key, object="billing.meter", action=action,
                    target_id=have.id if have else None, changes=changes, writes=writes)


def _rows(bp: MeteringBlueprint, ctx: BlueprintContext) -> list[UsageRow]:
    assert bp.usage is not None
    if bp.usage.csv is not None:
        return read_csv(ctx.base_dir, bp.usage.csv, bp.usage.columns)
    assert bp.usage.sql is not None
    return read_sql(bp.usage.sql, bp.usage.columns)


def _usage_items(bp: MeteringBlueprint, ctx: BlueprintContext,
                 session: Session) -> list[PlanItem]:
    assert bp.usage is not None
    meter = next(m for m in bp.meters if m.event_name == bp.usage.meter)
    sent = state.sent_usage(session, ctx.engagement, bp.name)
    now = ctx.now()
    max_age = min(bp.late_usage.max_age_days * 86400, STRIPE_MAX_AGE)
    by_email: dict[str, str | None] = {}
    items: list[PlanItem] = []
    for row in _rows(bp, ctx):
        identifier = f"{bp.name}:{row.id}"
        key = f"usage:{identifier}"
        if key in sent:
            items.append(PlanItem(key=key, object="billing.meter_event", action="no-op"))
            continue
        customer: str | None = row.customer
        if bp.usage.customer_match == "email":
            if row.customer not in by_email:
                found = ctx.customer_by_email(row.customer)
                by_email[row.customer] = found["id"] if found else None
            customer = by_email[row.customer]
        if customer is None:
            items.append(PlanItem(key=key, object="billing.meter_event", action="skip",
                                  note=f"no Stripe customer with email {row.customer}"))
            continue
        timestamp = row.timestamp
        if timestamp > now + FUTURE_SLACK:
            items.append(PlanItem(key=key, object="billing.meter_event", action="skip",
                                  note="timestamp is in the future"))
            continue
        if now - timestamp > max_age:
            late = (now - timestamp) // 86400
            if bp.late_usage.action == "drop":
                items.append(PlanItem(key=key, object="billing.meter_event", action="skip",
                                      note=f"late by {late} days: dropped (late_usage.action)"))
                continue
            # the start of today, not `now`: the plan an engineer approved must be the
            # plan that runs, so the value cannot move between plan and apply
            timestamp = max(row.timestamp, now - now % 86400)
        value = format(row.value.normalize(), "f")
        items.append(PlanItem(
            key=key, object="billing.meter_event", action="create",
            note="" if timestamp == row.timestamp else "late: billed now (late_usage.action)",
            changes=[], writes=[Write(path="/v1/billing/meter_events", params={
                "event_name": meter.event_name, "identifier": identifier,
                "timestamp": timestamp,
                "payload": {meter.customer_key: customer, meter.value_key: value}})]))
    return items


def plan_metering(bp: MeteringBlueprint, ctx: BlueprintContext,
                  session: Session) -> list[PlanItem]:
    observed: dict[str, Observed] = {}
    for obj in ctx.gateway.list_all("/v1/billing/meters"):
        obs = _observed(obj)
        # several meters may share an event_name over time; the active one is the live one
        if obs.key not in observed or obj.get("status") == "active":
            observed[obs.key] = obs
    items = [_meter_item(m, observed.get(f"meter:{m.event_name}")) for m in bp.meters]
    items.append(setting_item(ctx, session, bp.name, f"metering:{bp.name}:late_usage",
                              bp.late_usage.model_dump(mode="json")))
    if bp.usage is not None:
        items += _usage_items(bp, ctx, session)
    return items
