"""The gateway against the sandbox replica: the 429 storm through its fault-injection admin,
plus the few behaviours `fde doctor` and repair plans rely on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import StripeAuthError
from core.ids import idempotency_key
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

testing = pytest.importorskip("sandbox.replica.testing")

KEY = "sk_test_" + "ReplicaStormGateway00001"


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db: Path = tmp_path_factory.mktemp("replica-storm") / "replica.sqlite"
    with testing.running_replica(db) as handle:
        yield handle


def test_replica_429_storm_list_all_returns_every_object_exactly_once(replica: Any) -> None:
    created = 1_760_000_000
    customers = [
        {
            "id": f"cus_storm{i:06d}",
            "object": "customer",
            "created": created + i,
            "email": f"storm{i}@example.com",
            "livemode": False,
        }
        for i in range(300)
    ]
    assert replica.admin.bulk_insert(customers) == 300
    # Half of all customer-list requests (seeded, so every run meets the same storm) get 429.
    replica.admin.add_fault(
        method="GET", path="/v1/customers", kind="rate_limit", rate=0.5, retry_after=0
    )
    gateway = StripeGateway(
        GatewayConfig(
            api_base=replica.url,
            api_key=SecretStr(KEY),
            expected_mode="test",
            rate_limit=1000.0,
            max_rate_limit_retries=30,
            timeout=10.0,
        ),
        limiters=RateLimiterRegistry(),
    )
    try:
        ids = [c["id"] for c in gateway.list_all("/v1/customers", page_size=20)]
    finally:
        replica.admin.clear_faults()
    storm = Counter(i for i in ids if i.startswith("cus_storm"))
    assert len(storm) == 300 and set(storm.values()) == {1}
    stats = gateway.stats()
    assert stats.rate_limited > 0 and stats.rate_limit_waits == stats.rate_limited
    assert stats.requests_sent == stats.rate_limited + -(-len(ids) // 20)


def _replica_gateway(replica: Any, **overrides: Any) -> StripeGateway:
    settings: dict[str, Any] = {
        "api_base": replica.url,
        "api_key": SecretStr(KEY),
        "expected_mode": "test",
        "timeout": 10.0,
        **overrides,
    }
    return StripeGateway(GatewayConfig(**settings), limiters=RateLimiterRegistry())


def test_replica_account_for_doctor(replica: Any) -> None:
    summary = _replica_gateway(replica).account()
    assert summary.id.startswith("acct_") and summary.key.mode == "test"


def test_replica_replays_a_write_with_the_same_idempotency_key(replica: Any) -> None:
    gateway = _replica_gateway(replica, tier="write")
    key = idempotency_key("replica", "replay", "cus")
    first = gateway.write("post", "/v1/customers", {"email": "r@example.com"}, idempotency_key=key)
    again = gateway.write("post", "/v1/customers", {"email": "r@example.com"}, idempotency_key=key)
    assert first["id"] == again["id"]


def test_replica_unknown_connected_account_is_an_auth_error(replica: Any) -> None:
    with pytest.raises(StripeAuthError) as caught:
        _replica_gateway(replica, stripe_account="acct_notmine0001").account()
    assert caught.value.http_status == 403 and caught.value.request_id


def test_lifecycle_customer_to_refund_and_payout_through_the_gateway(replica: Any) -> None:
    """The same lifecycle the localstripe test runs, against the replica: a customer with a
    card, a subscription whose first invoice is paid by a charge with its balance
    transaction, then a refund and a payout that move the balance."""
    gateway = StripeGateway(
        GatewayConfig(api_base=replica.url, api_key=SecretStr(KEY), expected_mode="test",
                      tier="money", rate_limit=1000.0),
        limiters=RateLimiterRegistry(),
    )

    def write(path: str, params: dict[str, Any], step: str) -> dict[str, Any]:
        return gateway.write("post", path, params, idempotency_key=idempotency_key("t", step),
                             tier="money")

    customer = write("/v1/customers", {"email": "buyer@example.com",
                                       "payment_method": "pm_card_visa",
                                       "invoice_settings": {"default_payment_method":
                                                            "pm_card_visa"}}, "customer")
    pm_id = customer["invoice_settings"]["default_payment_method"]
    assert pm_id.startswith("pm_") and pm_id != "pm_card_visa"
    price = write("/v1/prices", {"currency": "eur", "unit_amount": 4900,
                                 "recurring": {"interval": "month"},
                                 "product_data": {"name": "Team plan"}}, "price")
    sub = write("/v1/subscriptions", {"customer": customer["id"],
                                      "items": [{"price": price["id"]}]}, "sub")
    assert sub["status"] == "active"
    invoice = gateway.retrieve(sub["latest_invoice"])
    assert (invoice["status"], invoice["amount_paid"], invoice["currency"]) == ("paid", 4900, "eur")
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    payments = list(gateway.list_all("/v1/invoice_payments", {"invoice": invoice["id"]}))
    pi = gateway.retrieve(payments[0]["payment"]["payment_intent"])
    assert pi["status"] == "succeeded" and pi["amount_received"] == 4900
    charge = gateway.retrieve(pi["latest_charge"])
    txn = gateway.retrieve(charge["balance_transaction"])
    assert txn["amount"] == 4900 and txn["net"] == 4900 - txn["fee"] and txn["fee"] > 0

    def balance(*kinds: str) -> int:
        body = gateway.get("/v1/balance")
        return sum(b["amount"] for kind in kinds for b in body[kind] if b["currency"] == "eur")

    total_before = balance("pending", "available")
    refund = write("/v1/refunds", {"charge": charge["id"], "amount": 1900}, "refund")
    assert refund["status"] == "succeeded"
    assert gateway.retrieve(charge["id"])["amount_refunded"] == 1900
    assert balance("pending", "available") == total_before - 1900
    # A write replayed with the same idempotency key returns the identical object and moves
    # nothing (keys live 24 h, so this is checked before the clock moves on).
    assert write("/v1/refunds", {"charge": charge["id"], "amount": 1900}, "refund") == refund
    assert balance("pending", "available") == total_before - 1900

    replica.admin.advance_clock(5 * 86400)  # funds become available
    available = balance("available")
    assert available == txn["net"] - 1900
    payout = write("/v1/payouts", {"amount": available, "currency": "eur"}, "payout")
    assert payout["status"] in ("pending", "in_transit")
    assert balance("available") == 0
