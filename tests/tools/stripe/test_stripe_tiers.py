"""Tiers: money endpoints need the money tier whatever the caller declares."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import PermissionDenied
from tools.stripe import required_tier


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("post", "/v1/refunds", {"charge": "ch_1"}),
        ("post", "/v1/charges", {"amount": 100}),
        ("post", "/v1/charges/ch_1/capture", {}),
        ("post", "/v1/payment_intents/pi_1/confirm", {}),
        ("post", "/v1/payment_intents/pi_1/capture", {}),
        ("post", "/v1/payment_intents", {"amount": 100, "confirm": True}),
        ("post", "/v1/payment_intents", {"amount": 100, "confirm": "true"}),
        ("post", "/v1/payouts", {"amount": 100}),
        ("post", "/v1/transfers", {"amount": 100}),
        ("post", "/v1/credit_notes", {"invoice": "in_1"}),
        ("post", "/v1/customers/cus_1/balance_transactions", {"amount": -500}),
        ("post", "/v1/invoices/in_1/pay", {}),
        ("post", "/v1/invoices/in_1/void", {}),
        ("post", "/v1/subscriptions", {"customer": "cus_1"}),
        ("delete", "/v1/subscriptions/sub_1", {}),
        ("post", "/v1/subscriptions/sub_1/cancel", {}),
    ],
)
def test_money_endpoints(method: str, path: str, params: dict[str, Any]) -> None:
    assert required_tier(method, path, params, "write") == "money"


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("post", "/v1/customers", {"email": "a@example.com"}),
        ("post", "/v1/customers/cus_1", {"metadata": {"k": "v"}}),
        ("post", "/v1/products", {"name": "Pro"}),
        ("post", "/v1/prices", {"unit_amount": 100}),
        ("post", "/v1/payment_intents", {"amount": 100}),
        ("post", "/v1/subscriptions/sub_1", {"metadata": {"k": "v"}}),
        ("post", "/v1/webhook_endpoints", {"url": "https://x"}),
        ("delete", "/v1/customers/cus_1", {}),
    ],
)
def test_plain_writes_keep_the_declared_tier(
    method: str, path: str, params: dict[str, Any]
) -> None:
    assert required_tier(method, path, params, "write") == "write"
    assert required_tier(method, path, params, "money") == "money"


def test_a_mislabelled_refund_is_refused_by_a_write_gateway(
    scripted: Any, gateway_factory: Any
) -> None:
    client = scripted()
    gateway = gateway_factory(client, tier="write")
    with pytest.raises(PermissionDenied, match="'money' tier"):
        gateway.write("post", "/v1/refunds", {"charge": "ch_1"}, idempotency_key="k1")
    assert client.calls == []
