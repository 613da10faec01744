"""The gateway over real HTTP against a tiny Stripe-shaped server: 429 storms, the key never
leaking, headers on the wire."""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import StripeAuthError
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway


def _gateway(base_url: str, key: str, **overrides: Any) -> StripeGateway:
    config = GatewayConfig(
        api_base=base_url,
        api_key=SecretStr(key),
        expected_mode="test",
        **{"rate_limit": 2000.0, "max_retries": 2, "timeout": 5.0, **overrides},
    )
    return StripeGateway(config, limiters=RateLimiterRegistry())


@pytest.mark.parametrize(("k", "n"), [(1, 2), (2, 5), (3, 4)])
def test_429_storm_list_all_returns_every_object_exactly_once(
    fake_stripe: Any, test_key: str, k: int, n: int
) -> None:
    fake_stripe.add_customers(300)
    fake_stripe.storm = (k, n)  # the first k of every n requests answer 429, Retry-After: 0
    gateway = _gateway(fake_stripe.base_url, test_key, max_rate_limit_retries=k)
    ids = [c["id"] for c in gateway.list_all("/v1/customers", page_size=25)]
    assert len(ids) == 300
    assert ids == [f"cus_{i:06d}" for i in range(300)]
    pages = 300 // 25
    # Requests until the 12th success, when the first k of every n are 429s.
    last_ok = (pages - 1) // (n - k) * n + k + (pages - 1) % (n - k)
    stats = gateway.stats()
    assert stats.requests_sent == len(fake_stripe.seen) == last_ok + 1
    assert stats.rate_limited == stats.rate_limit_waits == last_ok + 1 - pages
    assert stats.retries == 0


def test_429_storm_with_concurrent_callers_sharing_the_account(
    fake_stripe: Any, test_key: str
) -> None:
    fake_stripe.add_customers(300)
    fake_stripe.storm = (2, 5)
    registry = RateLimiterRegistry()
    config = GatewayConfig(
        api_base=fake_stripe.base_url,
        api_key=SecretStr(test_key),
        expected_mode="test",
        rate_limit=500.0,
        max_rate_limit_retries=10,
        timeout=5.0,
    )
    gateways = [StripeGateway(config, limiters=registry) for _ in range(4)]
    assert len(registry) == 1  # one account, one budget

    def walk(gateway: StripeGateway) -> list[str]:
        return [c["id"] for c in gateway.list_all("/v1/customers", page_size=50)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(walk, gateways))
    for ids in results:
        assert Counter(ids) == Counter(f"cus_{i:06d}" for i in range(300))
    assert sum(g.stats().rate_limited for g in gateways) > 0


def test_429_storm_honours_a_real_retry_after(fake_stripe: Any, test_key: str) -> None:
    fake_stripe.add_customers(120)
    fake_stripe.storm = (1, 2)
    fake_stripe.retry_after = "0.05"
    gateway = _gateway(fake_stripe.base_url, test_key)
    assert len(list(gateway.list_all("/v1/customers"))) == 120
    stats = gateway.stats()
    assert stats.rate_limit_waits == 2
    assert stats.seconds_slept >= 0.1 - 0.01


def test_the_key_never_reaches_logs_output_or_exceptions(
    fake_stripe: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong_key = "sk_test_" + "Wr0ngK3yThatMustNeverLeak" + "42"
    caplog.set_level(logging.DEBUG)  # every logger at its loudest, the SDK's included
    caplog.set_level(logging.DEBUG, logger="stripe")  # even if configure_logging quietened it
    gateway = _gateway(fake_stripe.base_url, wrong_key)
    with pytest.raises(StripeAuthError) as caught:
        list(gateway.list_all("/v1/customers"))
    with pytest.raises(StripeAuthError) as caught_account:
        gateway.account()

    # The fake server really did echo the full key back in its error message.
    assert fake_stripe.seen[0].headers["Authorization"] == f"Bearer {wrong_key}"
    out = capsys.readouterr()
    for err in (caught.value, caught_account.value):
        texts = [
            str(err),
            repr(err),
            err.message,
            err.hint,
            "".join(traceback.format_exception(err)),
        ]
        for text in texts:
            assert wrong_key not in text
        assert "sk_test_…ak42" in err.message
        assert err.http_status == 401 and err.request_id
    assert wrong_key not in caplog.text
    assert wrong_key not in out.out and wrong_key not in out.err
    assert wrong_key not in repr(gateway) and wrong_key not in repr(gateway.config)
    # The SDK did log the echoed message, redacted by the filter the gateway installs.
    assert "Invalid API Key provided: sk_test_…ak42" in caplog.text


def test_connect_header_and_account_over_the_wire(fake_stripe: Any, test_key: str) -> None:
    gateway = _gateway(fake_stripe.base_url, test_key, stripe_account="acct_connected9")
    summary = gateway.account()
    assert summary.id == "acct_fake123" and summary.display_name == "Fake Co"
    assert summary.stripe_account == "acct_connected9"
    seen = fake_stripe.seen[0]
    assert seen.path == "/v1/account"
    assert seen.headers["Stripe-Account"] == "acct_connected9"
