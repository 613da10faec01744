"""429 handling through the gateway, on a fake clock: Retry-After honoured, jittered backoff
without it, bounded attempts, and one shared pause for every caller on the account."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import StripeRateLimited
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway
from tools.stripe.transport import retry_after_seconds


def test_retry_after_is_honoured(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(
        reply.error(429, "slow down", **{"Retry-After": "3"}),
        reply.error(429, "slow down", **{"Retry-After": "1.5"}),
        reply.ok({"id": "cus_1"}),
    )
    gateway = gateway_factory(client, clock=clock)
    assert gateway.retrieve("cus_1") == {"id": "cus_1"}
    assert clock.sleeps == pytest.approx([3, 1.5])
    stats = gateway.stats()
    assert stats.requests_sent == 3
    assert (stats.rate_limited, stats.rate_limit_waits) == (2, 2)
    assert stats.seconds_slept == pytest.approx(4.5)
    assert stats.retries == 0  # the SDK never retried: 429s are ours


def test_same_idempotency_key_on_every_429_retry(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.error(429, "x", **{"Retry-After": "0"}), reply.ok({"id": "cus_1"}))
    gateway_factory(client, clock=clock, tier="write").write(
        "post", "/v1/customers", {}, idempotency_key="fde:abc"
    )
    assert [h["Idempotency-Key"] for _, _, h in client.calls] == ["fde:abc", "fde:abc"]


def test_jittered_exponential_backoff_without_retry_after(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(*(reply.error(429, "x") for _ in range(4)), reply.ok({"id": "cus_1"}))
    gateway_factory(client, clock=clock).retrieve("cus_1")
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps, start=1):
        base = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert base / 2 <= slept <= base


def test_429s_that_outlive_the_retries_raise_rate_limited(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any, test_key: str
) -> None:
    client = scripted(
        *(
            reply.error(
                429, f"Too many requests for {test_key}", code="rate_limit", **{"Retry-After": "1"}
            )
            for _ in range(4)
        )
    )
    gateway = gateway_factory(client, clock=clock, max_rate_limit_retries=3)
    with pytest.raises(StripeRateLimited) as caught:
        gateway.retrieve("cus_1")
    err = caught.value
    assert (err.http_status, err.code, err.request_id) == (429, "rate_limit", "req_429")
    assert test_key not in str(err) and "sk_test_…" in str(err)
    assert err.hint
    assert len(client.calls) == 4 and clock.sleeps == [1, 1, 1]
    assert gateway.stats().rate_limited == 4


def test_a_retry_after_longer_than_we_wait_surfaces_at_once(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.error(429, "x", **{"Retry-After": "600"}))
    gateway = gateway_factory(client, clock=clock, max_retry_after=60)
    with pytest.raises(StripeRateLimited):
        gateway.retrieve("cus_1")
    assert clock.sleeps == []


def test_lock_timeout_429_with_should_retry_is_retried_by_the_sdk_after_ours(
    clock: Any, no_sdk_sleep: list[float], scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    lock = reply.error(
        429, "lock", code="lock_timeout", **{"stripe-should-retry": "true", "Retry-After": "0"}
    )
    client = scripted(lock, lock, reply.ok({"id": "cus_1"}))
    gateway = gateway_factory(client, clock=clock, max_rate_limit_retries=0, max_retries=2)
    assert gateway.retrieve("cus_1") == {"id": "cus_1"}
    stats = gateway.stats()
    assert (stats.requests_sent, stats.retries, stats.rate_limited) == (3, 2, 2)


def test_one_callers_429_pauses_every_caller_on_the_account(
    clock: Any, scripted: Any, reply: Any, test_key: str
) -> None:
    registry = RateLimiterRegistry(clock=clock)
    config = GatewayConfig(
        api_base="http://stripe.test",
        api_key=SecretStr(test_key),
        expected_mode="test",
        rate_limit=1000,
        max_retries=0,
    )
    b_slept: list[float] = []

    def b_sleep(seconds: float) -> None:
        b_slept.append(seconds)
        clock.sleep(seconds)

    b = StripeGateway(
        config, http_client=scripted(reply.ok({"id": "cus_2"})), limiters=registry, sleep=b_sleep
    )

    def a_sleep(seconds: float) -> None:
        # While A waits out its 429, B (another caller on the same account) asks too.
        b.retrieve("cus_2")
        clock.sleep(0)  # A's own wait is already over by the time B returns

    a = StripeGateway(
        config,
        http_client=scripted(reply.error(429, "x", **{"Retry-After": "5"}), reply.ok({"id": "c"})),
        limiters=registry,
        sleep=a_sleep,
    )
    assert a.retrieve("cus_1") == {"id": "c"}
    assert b_slept == pytest.approx([5], abs=0.01)  # B never saw a 429, yet it waited
    assert b.stats().throttled == 1 and b.stats().rate_limited == 0
    assert a.stats().rate_limit_waits == 1


def test_different_accounts_do_not_share(
    clock: Any, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    registry = RateLimiterRegistry(clock=clock)
    a = gateway_factory(scripted(), clock=clock, limiters=registry)
    b = gateway_factory(scripted(), clock=clock, limiters=registry, stripe_account="acct_other")
    assert a._http.bucket is not b._http.bucket
    c = gateway_factory(scripted(), clock=clock, limiters=registry)
    assert a._http.bucket is c._http.bucket


def test_own_rate_limit_throttles(clock: Any, scripted: Any, reply: Any, gateway_factory: Any):
    client = scripted(*(reply.ok({"id": f"cus_{i}"}) for i in range(5)))
    gateway = gateway_factory(client, clock=clock, rate_limit=2, burst=1)
    for i in range(5):
        gateway.retrieve(f"cus_{i}")
    assert clock.sleeps == pytest.approx([0.5] * 4)
    assert gateway.stats().throttled == 4


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Retry-After": ""}, None),
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": formatdate(1_000_030, usegmt=True)}, 30.0),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=1_000_000) == seconds
