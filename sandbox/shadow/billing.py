"""Customers migrated to Stripe Billing, one per thing a billing parallel run must explain,
played on a running replica over HTTP with the official SDK (the replica's clock should
start on a month boundary, e.g. 2026-11-01 00:00 UTC, so periods fall on whole days).

    play_billing(replica) -> {story: {"customer": cus_…, "subscription": sub_…}}

    equal       $19.00 a month, nothing special
    proration   $19.00, upgraded to $49.00 half-way through the month (prorations pending)
    tax         two $10.50 items with a 19 % tax rate (Stripe rounds tax per line)
    exponent    ¥1,500 a month (JPY has no minor unit)
    usage       $19.00 + metered API calls at $0.10 each, 30 calls reported this period
    discount    $49.00 (legacy gave this customer 10 % off)
    extra       $19.00 (legacy billed a one-off fee nobody itemised)

After `play_billing` the clock stands 15 days into the first period; each subscription's
next invoice (the preview) covers the second period.
"""

from __future__ import annotations

from typing import Any

from sandbox.replica.testing import ReplicaHandle

DAY = 86_400
STORIES = ("equal", "proration", "tax", "exponent", "usage", "discount", "extra")


class _Api:
    def __init__(self, replica: ReplicaHandle) -> None:
        self.client = replica.client()
        self.admin = replica.admin

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        resp = self.client.raw_request("post", path, **params)
        return self.client.deserialize(resp, api_mode="V1").to_dict()


def _customer(api: _Api, story: str) -> str:
    cid = api.post("/v1/customers", email=f"{story}@billing.example", name=story)["id"]
    pm = api.post("/v1/payment_methods/pm_card_visa/attach", customer=cid)
    api.post(f"/v1/customers/{cid}", invoice_settings={"default_payment_method": pm["id"]})
    return cid


def play_billing(replica: ReplicaHandle) -> dict[str, dict[str, str]]:
    api = _Api(replica)
    product = api.post("/v1/products", name="Relay")["id"]

    def price(amount: int, currency: str = "usd", **recurring: Any) -> str:
        return api.post("/v1/prices", product=product, currency=currency, unit_amount=amount,
                        recurring={"interval": "month", **recurring})["id"]

    starter, team = price(1900), price(4900)
    half_a, half_b = price(1050), price(1050)
    yen = price(1500, "jpy")
    meter = api.post("/v1/billing/meters", display_name="API calls", event_name="api_call",
                     default_aggregation={"formula": "sum"})["id"]
    calls = price(10, usage_type="metered", meter=meter)
    vat = api.post("/v1/tax_rates", display_name="VAT", percentage=19, inclusive=False)["id"]
    items = {"equal": [starter], "proration": [starter], "tax": [half_a, half_b],
             "exponent": [yen], "usage": [starter, calls], "discount": [team],
             "extra": [starter]}
    out: dict[str, dict[str, str]] = {}
    for story in STORIES:
        customer = _customer(api, story)
        extra = {"default_tax_rates": [vat]} if story == "tax" else {}
        sub = api.post("/v1/subscriptions", customer=customer,
                       items=[{"price": p} for p in items[story]], **extra)
        out[story] = {"customer": customer, "subscription": sub["id"],
                      "item": sub["items"]["data"][0]["id"]}
    api.admin.advance_clock(15 * DAY)
    api.post(f"/v1/subscriptions/{out['proration']['subscription']}",
             items=[{"id": out["proration"]["item"], "price": team}],
             proration_behavior="create_prorations")
    api.post("/v1/billing/meter_events", event_name="api_call",
             payload={"stripe_customer_id": out["usage"]["customer"], "value": "30"})
    return out


__all__ = ["STORIES", "play_billing"]
