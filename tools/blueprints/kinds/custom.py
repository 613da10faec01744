"""Custom billing logic: the plugin's charges for each customer and period become pending
invoice items, found again through ``metadata.fde_item`` so a re-run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from core.money import Money, chargeable
from tools.blueprints.context import BlueprintContext
from tools.blueprints.errors import BlueprintInvalid
from tools.blueprints.plan import Desired, Observed, PlanItem, Write, diff
from tools.blueprints.plugins import Charge, UsageTotal, get_plugin
from tools.blueprints.spec_custom import CustomerRef, CustomLogicBlueprint
from tools.blueprints.usage import read_csv

__all__ = ["evaluate", "plan_custom"]


def _epoch(day: Any) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


def evaluate(bp: CustomLogicBlueprint, ctx: BlueprintContext) -> dict[str, list[Charge]]:
    """usage_key -> the plugin's charges for the blueprint's period (no Stripe I/O)."""
    rows = read_csv(ctx.base_dir, bp.usage.csv, bp.usage.columns)
    start, end = _epoch(bp.period.start), _epoch(bp.period.end)
    plugin, params = get_plugin(bp.plugin), bp.plugin_params()
    out: dict[str, list[Charge]] = {}
    for ref in bp.customers:
        units = sum((r.value for r in rows
                     if r.customer == ref.usage_key and start <= r.timestamp < end), Decimal(0))
        usage = UsageTotal(customer=ref.usage_key, units=units, period_start=bp.period.start,
                           period_end=bp.period.end)
        try:
            charges = plugin.evaluate(params, usage, bp.currency)
        except ValueError as exc:
            raise BlueprintInvalid(f"field 'params': {exc}",
                                   hint=f"fix the {bp.plugin} parameters") from None
        for charge in charges:  # a registered plugin may skip the rounding the built-ins do
            if not chargeable(charge.amount, charge.currency):
                money = Money(amount=charge.amount, currency=charge.currency)
                raise BlueprintInvalid(
                    f"plugin {bp.plugin!r} charged {money} to {ref.usage_key}: Stripe refuses "
                    f"a {money.currency.upper()} amount whose last digit is not 0",
                    hint="round with core.money.round_charge in the plugin")
        out[ref.usage_key] = charges
    return out


def _customer(ctx: BlueprintContext, ref: CustomerRef, index: int) -> str:
    found = ctx.customer_by_email(ref.email) if ref.email else ctx.fetch(f"/v1/customers/{ref.id}")
    if not found or found.get("deleted"):
        raise BlueprintInvalid(
            f"field 'customers[{index}].{'email' if ref.email else 'id'}': no Stripe customer "
            f"{ref.email or ref.id}", hint="create the customer or correct the reference")
    return found["id"]


def _observed(obj: dict[str, Any]) -> Observed:
    meta = obj.get("metadata") or {}
    return Observed(key=f"invoiceitem:{meta.get('fde_item')}", object="invoiceitem",
                    id=obj["id"], managed=True, fields={
                        "amount": obj.get("amount"), "currency": obj.get("currency"),
                        "description": obj.get("description")})


def plan_custom(bp: CustomLogicBlueprint, ctx: BlueprintContext) -> list[PlanItem]:
    charges = evaluate(bp, ctx)
    items: list[PlanItem] = []
    for index, ref in enumerate(bp.customers):
        customer = _customer(ctx, ref, index)
        observed: dict[str, Observed] = {}
        invoiced: set[str] = set()
        for obj in ctx.gateway.list_all("/v1/invoiceitems", {"customer": customer}):
            if (obj.get("metadata") or {}).get("fde_blueprint") != bp.name:
                continue
            obs = _observed(obj)
            observed[obs.key] = obs
            if obj.get("invoice"):
                invoiced.add(obs.key)
        prefix = f"{bp.name}:{ref.usage_key}:{bp.period.start}:"
        for charge in charges[ref.usage_key]:
            fde_item = prefix + charge.key
            want = Desired(key=f"invoiceitem:{fde_item}", object="invoiceitem",
                           immutable=frozenset({"currency"}),
                           fields={"amount": charge.amount, "currency": charge.currency,
                                   "description": charge.description})
            have = observed.pop(want.key, None)
            action, changes = diff(want, have)
            note = ""
            if have is not None and want.key in invoiced and action != "no-op":
                action, note = "skip", "already on an invoice: correct it with a credit note"
            create = Write(path="/v1/invoiceitems", params={
                "customer": customer, "amount": charge.amount, "currency": charge.currency,
                "description": charge.description,
                "metadata": {"fde_blueprint": bp.name, "fde_item": fde_item,
                             "fde_period": f"{bp.period.start}/{bp.period.end}"}})
            writes: list[Write] = []
            if action == "create":
                writes = [create]
            elif action == "replace" and have is not None:
                writes = [Write(method="delete", path=f"/v1/invoiceitems/{have.id}"), create]
            elif action == "update" and have is not None:
                writes = [Write(path=f"/v1/invoiceitems/{have.id}", params={
                    c.field: c.after for c in changes})]
            items.append(PlanItem(key=want.key, object="invoiceitem", action=action,
                                  target_id=have.id if have else None, changes=changes,
                                  writes=writes, note=note))
        for key, obs in sorted(observed.items()):
            if key.startswith(f"invoiceitem:{prefix}") and key not in invoiced:
                items.append(PlanItem(
                    key=key, object="invoiceitem", action="delete", target_id=obs.id,
                    writes=[Write(method="delete", path=f"/v1/invoiceitems/{obs.id}")],
                    note="the plugin no longer produces this charge"))
    return items
