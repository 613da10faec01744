"""Payments tests: a replica on a frozen clock (moved only by the tests) and small helpers."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from sandbox.replica.config import ReplicaConfig

START = 1_767_225_600  # 2026-01-01 00:00:00 UTC
DAY = 86_400


@pytest.fixture
def replica_config(tmp_path) -> ReplicaConfig:
    return ReplicaConfig(db_path=tmp_path / "replica.sqlite", clock_start=START,
                         clock_frozen=True, tick_seconds=0.05,
                         webhook_retry_schedule=[0.05], webhook_timeout=2.0)


class Pay:
    """The official SDK plus the replica's admin and test helpers, for terse tests."""

    def __init__(self, replica: Any, client: stripe.StripeClient) -> None:
        self.replica = replica
        self.client = client
        self.v1 = client.v1

    def advance(self, seconds: float) -> int:
        return self.replica.admin.advance_clock(seconds)["ran"]

    def helper(self, path: str, **params: Any) -> stripe.StripeObject:
        response = self.client.raw_request("post", path, **params)
        return self.client.deserialize(response, api_mode="V1")

    def events(self, kind: str) -> list[stripe.StripeObject]:
        """Objects of every event of type `kind` (oldest first)."""
        found = self.v1.events.list(params={"type": kind, "limit": 100}).data
        return [e.data.object for e in reversed(found)]

    def event_types(self, object_id: str) -> list[str]:
        """Types of the events about `object_id`, oldest first."""
        found = self.v1.events.list(params={"limit": 100}).data
        return [e.type for e in reversed(found) if e.data.object.to_dict().get("id") == object_id]

    def pay(self, amount: int, currency: str, pm: str, **params: Any) -> stripe.PaymentIntent:
        return self.v1.payment_intents.create(params={
            "amount": amount, "currency": currency, "payment_method": pm, "confirm": True,
            "payment_method_types": [params.pop("type", "card")], **params})

    def txn_of(self, charge_id: str) -> stripe.BalanceTransaction:
        charge = self.v1.charges.retrieve(charge_id)
        return self.v1.balance_transactions.retrieve(charge.balance_transaction)

    def balance(self, currency: str) -> tuple[int, int]:
        """(available, pending) in `currency`."""
        bal = self.v1.balance.retrieve()
        avail = sum(b.amount for b in bal.available if b.currency == currency)
        pend = sum(b.amount for b in bal.pending if b.currency == currency)
        return avail, pend


@pytest.fixture
def pay(replica, stripe_client) -> Pay:
    return Pay(replica, stripe_client)
