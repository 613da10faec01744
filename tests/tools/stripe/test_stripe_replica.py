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
