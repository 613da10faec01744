"""Checkout, dunning and invoicing workflow: config rows, plus the subscriptions an invoicing
workflow governs (their collection method and net terms are Stripe fields)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tools.blueprints.context import BlueprintContext
from tools.blueprints.errors import BlueprintInvalid
from tools.blueprints.kinds.settings import setting_item
from tools.blueprints.plan import Desired, Observed, PlanItem, Write, diff
from tools.blueprints.spec_flows import CheckoutBlueprint, DunningBlueprint, InvoicingBlueprint

__all__ = ["plan_checkout", "plan_dunning", "plan_invoicing"]

_BODY_EXCLUDE = {"kind", "name", "description"}


def _check_prices(bp: CheckoutBlueprint, ctx: BlueprintContext) -> None:
    """A configuration must point at active prices in its own currency (and recurring ones
    for subscription mode); otherwise sessions built from it would fail at checkout time."""
    for ci, conf in enumerate(bp.configurations):
        for li, line in enumerate(conf.line_items):
            where = f"configurations[{ci}].line_items[{li}].lookup_key"
            found = [p for p in ctx.gateway.list_all(
                "/v1/prices", {"lookup_keys[]": line.lookup_key}) if p.get("active")]
            if not found:
                raise BlueprintInvalid(
                    f"field '{where}': no active price has lookup key {line.lookup_key!r}",
                    hint="apply the catalog blueprint that defines it first")
            price = found[0]
            if price.get("currency") != conf.currency:
                raise BlueprintInvalid(
                    f"field '{where}': price {price['id']} is in {price.get('currency')}, the "
                    f"configuration for {conf.country} charges in {conf.currency}")
            if (conf.mode == "subscription") != (price.get("recurring") is not None):
                raise BlueprintInvalid(
                    f"field '{where}': mode {conf.mode} needs "
                    f"{'a recurring' if conf.mode == 'subscription' else 'a one-time'} price")


def plan_checkout(bp: CheckoutBlueprint, ctx: BlueprintContext,
                  session: Session) -> list[PlanItem]:
    _check_prices(bp, ctx)
    return [setting_item(ctx, session, bp.name, f"checkout:{bp.name}:{conf.key}",
                         conf.model_dump(mode="json")) for conf in bp.configurations]


def plan_dunning(bp: DunningBlueprint, ctx: BlueprintContext, session: Session) -> list[PlanItem]:
    body = bp.model_dump(mode="json", exclude=_BODY_EXCLUDE)
    return [setting_item(ctx, session, bp.name, f"dunning:{bp.name}", body)]


def _subscription_item(bp: InvoicingBlueprint, sub: dict[str, Any]) -> PlanItem:
    send = bp.collection_method == "send_invoice"
    fields: dict[str, Any] = {"collection_method": bp.collection_method}
    if send:
        fields["days_until_due"] = bp.days_until_due
    want = Desired(key=f"subscription:{sub['id']}", object="subscription", fields=fields)
    have = Observed(key=want.key, object="subscription", id=sub["id"], managed=False,
                    fields={"collection_method": sub.get("collection_method"),
                            "days_until_due": sub.get("days_until_due")})
    action, changes = diff(want, have)
    writes = [Write(path=f"/v1/subscriptions/{sub['id']}", params=fields)] \
        if action == "update" else []
    return PlanItem(key=want.key, object="subscription", action=action, target_id=sub["id"],
                    changes=changes, writes=writes)


def plan_invoicing(bp: InvoicingBlueprint, ctx: BlueprintContext,
                   session: Session) -> list[PlanItem]:
    body = bp.model_dump(mode="json", exclude=_BODY_EXCLUDE)
    items = [setting_item(ctx, session, bp.name, f"invoicing:{bp.name}", body)]
    for customer in ctx.customers():
        meta = customer.get("metadata") or {}
        if any(meta.get(k) != v for k, v in bp.applies_to.items()):
            continue
        for sub in ctx.gateway.list_all("/v1/subscriptions", {"customer": customer["id"]}):
            if sub.get("status") in ("canceled", "incomplete_expired"):
                continue
            items.append(_subscription_item(bp, sub))
    return items
