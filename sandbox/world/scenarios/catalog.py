"""Catalog: the usage meter, products and a price per plan and currency (lookup key
``{plan}_{currency}``): flat, per-seat, tiered (graduated), metered and one-time; and the
company's webhook endpoint (FM-05 pins it to an older API version)."""

from __future__ import annotations

from sandbox.world.company import CURRENCIES, METER_EVENT, PLANS, local_amount
from sandbox.world.state import World

OLD_API_VERSION = "2024-06-20"
HANDLER_URL = "http://127.0.0.1:12112/webhooks/stripe"


def plan(world: World) -> None:
    api = world.api
    meter = api.post("/v1/billing/meters", {
        "display_name": "API calls", "event_name": METER_EVENT,
        "default_aggregation": {"formula": "sum"}})
    for item in PLANS:
        product = api.post("/v1/products", {"name": item.product,
                                            "metadata": {"plan": item.key, "kind": item.kind}})
        for currency in CURRENCIES:
            params: dict = {"product": product["id"], "currency": currency,
                            "lookup_key": f"{item.key}_{currency}",
                            "nickname": f"{item.product} ({currency.upper()})",
                            "metadata": {"kind": item.kind}}
            amount = local_amount(item.usd_cents, currency)
            if item.kind in ("flat", "per_seat"):
                params |= {"unit_amount": amount, "recurring": {"interval": "month"}}
            elif item.kind == "tiered":
                params |= {"billing_scheme": "tiered", "tiers_mode": "graduated",
                           "recurring": {"interval": "month"},
                           "tiers": [{"up_to": 10, "unit_amount": amount},
                                     {"up_to": "inf", "unit_amount": amount * 7 // 10}]}
            elif item.kind == "metered":
                params |= {"unit_amount_decimal": "0.5" if currency != "jpy" else "1",
                           "recurring": {"interval": "month", "usage_type": "metered",
                                         "meter": meter["id"]}}
            else:
                params |= {"unit_amount": amount}
            price = api.post("/v1/prices", params)
            world.prices[params["lookup_key"]] = price["id"]
    endpoint: dict = {"url": HANDLER_URL, "enabled_events": ["*"], "connect": True,
                      "description": "Relay Analytics webhook handler"}
    if world.bug("FM-05"):
        endpoint["api_version"] = OLD_API_VERSION
    world.endpoint = api.post("/v1/webhook_endpoints", endpoint)
    if world.bug("FM-05"):
        world.note("FM-05", world.endpoint["id"], f"endpoint pinned to {OLD_API_VERSION}")
