"""Helpers of the billing tests: the frozen start instant and a thin SDK wrapper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

from sandbox.replica.testing import ReplicaHandle

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


@dataclass
class Billing:
    """The SDK client plus the few set-ups every billing test needs."""

    client: stripe.StripeClient
    replica: ReplicaHandle

    def advance(self, seconds: int) -> None:
        self.replica.admin.advance_clock(seconds)

    def now(self) -> int:
        return self.replica.admin.now()

    def price(self, amount: int = 1000, *, currency: str = "usd", interval: str = "month",
              name: str = "Pro", **recurring: Any) -> stripe.Price:
        product = self.client.v1.products.create({"name": name})
        return self.client.v1.prices.create({
            "product": product.id, "currency": currency, "unit_amount": amount,
            "recurring": {"interval": interval, **recurring}})

    def customer(self, pm: str | None = "pm_card_visa", **fields: Any) -> stripe.Customer:
        customer = self.client.v1.customers.create({"email": "ada@example.com", **fields})
        if pm:
            attached = self.client.v1.payment_methods.attach(pm, {"customer": customer.id})
            customer = self.client.v1.customers.update(customer.id, {
                "invoice_settings": {"default_payment_method": attached.id}})
        return customer

    def events(self, *, since: int = 0, types: str | None = None) -> list[str]:
        """Event types in the order they happened (oldest first)."""
        params: dict[str, Any] = {"limit": 100}
        if types:
            params["type"] = types
        found = [e for e in self.client.v1.events.list(params).data if e.created >= since]
        return [e.type for e in reversed(found)]

    def event_objects(self, event_type: str) -> list[dict]:
        return [e.data.object for e in self.client.v1.events.list(
            {"type": event_type, "limit": 100}).data]
