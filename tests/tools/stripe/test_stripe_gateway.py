"""StripeGateway over a scripted SDK HTTP client: tiers, idempotency, pagination, errors,
headers, and the refusal of a wrong-mode key before any network."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from core.errors import (
    PermissionDenied,
    StripeAuthError,
    StripeKeyError,
    StripeRequestError,
    StripeUnreachable,
    UnknownObjectPrefix,
)
from core.ids import IDEMPOTENCY_KEY_MAX, idempotency_key
from core.settings import load_settings
from tools.stripe import API_VERSION, GatewayConfig, StripeGateway


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_pinned_api_version_is_the_sdks() -> None:
    assert stripe.api_version == API_VERSION


# -- mode refusal happens before any network --------------------------------------------


def test_live_key_for_test_engagement_is_refused_before_any_connection(live_key: str) -> None:
    # A listening socket that nobody accepts from: any connection attempt would queue here.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        config = GatewayConfig(
            api_base=f"http://127.0.0.1:{port}",
            api_key=SecretStr(live_key),
            expected_mode="test",
            max_retries=3,
        )
        with pytest.raises(StripeKeyError) as caught:
            StripeGateway(config).account()
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
    assert "declared test mode" in caught.value.message
    assert live_key not in str(caught.value)


def test_test_key_for_live_engagement_is_refused_before_any_request(
    scripted: Any, gateway_factory: Any, test_key: str
) -> None:
    client = scripted()
    with pytest.raises(StripeKeyError, match="declared live mode"):
        gateway_factory(client, expected_mode="live")
    assert client.calls == []


def test_closed_port_gives_key_error_not_unreachable(live_key: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    config = GatewayConfig(
        api_base=f"http://127.0.0.1:{port}", api_key=SecretStr(live_key), expected_mode="test"
    )
    with pytest.raises(StripeKeyError):
        StripeGateway(config)


def test_malformed_key_is_refused_before_any_request(scripted: Any, gateway_factory: Any) -> None:
    client = scripted()
    with pytest.raises(StripeKeyError, match="publishable"):
        gateway_factory(client, api_key="pk_test_" + "x" * 24)
    assert client.calls == []


def test_unreachable_after_retries(no_sdk_sleep: list[float], test_key: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = StripeGateway(
        GatewayConfig(
            api_base=f"http://127.0.0.1:{port}",
            api_key=SecretStr(test_key),
            expected_mode="test",
            max_retries=2,
            timeout=2,
        )
    )
    with pytest.raises(StripeUnreachable) as caught:
        gateway.account()
    stats = gateway.stats()
    assert stats.requests_sent == 3 and stats.retries == 2
    assert len(no_sdk_sleep) == 2
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "Connection refused" in caught.value.message
    assert test_key not in str(caught.value)


# -- config -----------------------------------------------------------------------------


def test_config_from_settings_and_validation(test_key: str) -> None:
    settings = load_settings(stripe_api_base="http://127.0.0.1:12111/", stripe_rate_limit=7)
    config = GatewayConfig.from_settings(settings, expected_mode="test", tier="write")
    assert config.api_base == "http://127.0.0.1:12111"
    assert (config.rate_limit, config.tier) == (7, "write")
    assert "sk_test" not in repr(config)
    with pytest.raises(ValidationError):
        GatewayConfig(api_base="ftp://x", api_key=SecretStr(test_key), expected_mode="test")
    with pytest.raises(ValidationError):
        GatewayConfig(
            api_base="http://user:pw@host", api_key=SecretStr(test_key), expected_mode="test"
        )
    with pytest.raises(ValidationError):
        GatewayConfig(api_key=SecretStr(test_key), expected_mode="test", stripe_account="cus_1")


def test_gateway_repr_hides_the_key(gateway_factory: Any, test_key: str) -> None:
    gateway = gateway_factory()
    assert test_key not in repr(gateway)
    assert "sk_test_…" in repr(gateway)


# -- headers ----------------------------------------------------------------------------


def test_headers_on_every_request(scripted: Any, reply: Any, gateway_factory: Any) -> None:
    client = scripted(reply.ok({"id": "acct_1"}), reply.ok({"id": "cus_1", "object": "customer"}))
    gateway = gateway_factory(
        client, stripe_account="acct_connected1", api_base="http://stripe.test:1234/"
    )
    gateway.account()
    gateway.retrieve("cus_1")
    assert [url for _, url, _ in client.calls] == [
        "http://stripe.test:1234/v1/account",
        "http://stripe.test:1234/v1/customers/cus_1",
    ]
    for _, _, headers in client.calls:
        assert headers["Stripe-Account"] == "acct_connected1"
        assert headers["Stripe-Version"] == API_VERSION
        assert headers["Authorization"].startswith("Bearer sk_test_")


def test_no_stripe_account_header_without_connect(
    scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.ok({"id": "acct_1"}))
    gateway_factory(client).account()
    assert "Stripe-Account" not in client.calls[0][2]


def test_account_summary(scripted: Any, reply: Any, gateway_factory: Any) -> None:
    client = scripted(
        reply.ok(
            {
                "id": "acct_123",
                "country": "DE",
                "default_currency": "eur",
                "charges_enabled": True,
                "payouts_enabled": False,
                "business_profile": {"name": "Acme GmbH"},
            }
        )
    )
    summary = gateway_factory(client).account()
    assert summary.id == "acct_123"
    assert (summary.country, summary.default_currency) == ("DE", "eur")
    assert summary.display_name == "Acme GmbH"
    assert summary.key.mode == "test" and summary.key.redacted.startswith("sk_test_…")


# -- retrieve ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("object_id", "path"),
    [
        ("cus_123", "/v1/customers/cus_123"),
        ("sub_sched_9", "/v1/subscription_schedules/sub_sched_9"),
        ("sub_9", "/v1/subscriptions/sub_9"),
        ("cs_test_a1", "/v1/checkout/sessions/cs_test_a1"),
        ("py_1", "/v1/charges/py_1"),
    ],
)
def test_retrieve_routes_by_prefix(
    object_id: str, path: str, scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.ok({"id": object_id}))
    assert gateway_factory(client).retrieve(object_id) == {"id": object_id}
    assert urlsplit(client.calls[0][1]).path == path


def test_retrieve_with_expand(scripted: Any, reply: Any, gateway_factory: Any) -> None:
    client = scripted(reply.ok({"id": "in_1"}))
    gateway_factory(client).retrieve("in_1", expand=["payment_intent"])
    assert _query(client.calls[0][1]) == {"expand[0]": "payment_intent"}


@pytest.mark.parametrize(
    ("object_id", "fragment"),
    [
        ("zzz_123", "prefix 'zzz_'"),
        ("cus_", "prefix 'cus_'"),
        ("cus_1/../../v1/charges", "is not a Stripe object id"),
        ("sk_live_abcdefghijklmnop1234", "sk_live_…1234"),
    ],
)
def test_retrieve_unknown_prefix(
    object_id: str, fragment: str, scripted: Any, gateway_factory: Any
) -> None:
    client = scripted()
    with pytest.raises(UnknownObjectPrefix) as caught:
        gateway_factory(client).retrieve(object_id)
    assert fragment in caught.value.message
    assert "abcdefghijklmnop" not in caught.value.message  # a pasted key is not echoed
    assert client.calls == []


def test_not_found_keeps_code_status_and_request_id(
    scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.error(404, "No such customer: 'cus_x'", code="resource_missing"))
    with pytest.raises(StripeRequestError) as caught:
        gateway_factory(client).retrieve("cus_x")
    err = caught.value
    assert (err.code, err.http_status, err.request_id) == ("resource_missing", 404, "req_404")
    assert "No such customer" in err.message and "GET /v1/customers/cus_x" in err.message
    assert err.hint and "mode" in err.hint


def test_5xx_is_retried_by_the_sdk(
    no_sdk_sleep: list[float], scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.error(500, "boom"), reply.error(503, "boom"), reply.ok({"id": "cus_1"}))
    gateway = gateway_factory(client, max_retries=3)
    assert gateway.retrieve("cus_1") == {"id": "cus_1"}
    stats = gateway.stats()
    assert (stats.requests_sent, stats.retries) == (3, 2)
    assert len(no_sdk_sleep) == 2 and stats.seconds_slept == pytest.approx(sum(no_sdk_sleep))


# -- list_all ---------------------------------------------------------------------------


def _pages(total: int, size: int) -> list[Any]:
    from json import dumps

    pages = []
    for start in range(0, total, size):
        data = [{"id": f"cus_{i:04d}"} for i in range(start, min(total, start + size))]
        body = {"object": "list", "data": data, "has_more": start + size < total}
        pages.append((dumps(body), 200, {}))
    return pages


def test_list_all_walks_cursors_and_passes_params(scripted: Any, gateway_factory: Any) -> None:
    client = scripted(*_pages(250, 100))
    gateway = gateway_factory(client)
    window = {"created": {"gte": 1700000000, "lt": 1800000000}, "expand": ["data.customer"]}
    ids = [obj["id"] for obj in gateway.list_all("/v1/customers", window)]
    assert ids == [f"cus_{i:04d}" for i in range(250)]
    queries = [_query(url) for _, url, _ in client.calls]
    assert [q.get("starting_after") for q in queries] == [None, "cus_0099", "cus_0199"]
    for q in queries:
        assert q["limit"] == "100"
        assert q["created[gte]"] == "1700000000" and q["created[lt]"] == "1800000000"
        assert q["expand[0]"] == "data.customer"


@pytest.mark.parametrize("resource", ["/v1/customers", "customer", stripe.Customer])
def test_list_all_resource_forms(resource: Any, scripted: Any, gateway_factory: Any) -> None:
    client = scripted(*_pages(3, 100))
    assert len(list(gateway_factory(client).list_all(resource))) == 3
    assert urlsplit(client.calls[0][1]).path == "/v1/customers"


def test_list_all_yields_plain_dicts(scripted: Any, gateway_factory: Any) -> None:
    client = scripted(*_pages(2, 100))
    for obj in gateway_factory(client).list_all("customer"):
        assert type(obj) is dict


def test_list_all_refuses_a_cursor_that_does_not_move(
    scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    stuck = {"object": "list", "data": [{"id": "cus_1"}], "has_more": True}
    client = scripted(reply.ok(stuck), reply.ok(stuck))
    with pytest.raises(StripeRequestError, match="cursor did not advance"):
        list(gateway_factory(client).list_all("/v1/customers"))


def test_list_all_search_pages(scripted: Any, reply: Any, gateway_factory: Any) -> None:
    client = scripted(
        reply.ok(
            {
                "object": "search_result",
                "data": [{"id": "cus_1"}],
                "has_more": True,
                "next_page": "pg_2",
            }
        ),
        reply.ok(
            {
                "object": "search_result",
                "data": [{"id": "cus_2"}],
                "has_more": False,
                "next_page": None,
            }
        ),
    )
    got = list(gateway_factory(client).list_all("/v1/customers/search", {"query": "email:'x'"}))
    assert [o["id"] for o in got] == ["cus_1", "cus_2"]
    assert _query(client.calls[1][1])["page"] == "pg_2"


def test_list_all_bad_arguments(gateway_factory: Any) -> None:
    gateway = gateway_factory()
    with pytest.raises(ValueError):
        next(gateway.list_all("/v1/customers", page_size=101))
    with pytest.raises(ValueError):
        next(gateway.list_all("no_such_thing"))
    with pytest.raises(ValueError):
        next(gateway.list_all("/v1/customers", {"api_key": "sk_test_sneaky"}))


# -- writes: tiers and idempotency keys --------------------------------------------------


def test_write_refused_without_the_tier(scripted: Any, gateway_factory: Any) -> None:
    client = scripted()
    key = idempotency_key("plan_1", "item_1")
    with pytest.raises(PermissionDenied, match="'write' tier"):
        gateway_factory(client).write("post", "/v1/customers", {}, idempotency_key=key)
    with pytest.raises(PermissionDenied, match="'money' tier"):
        gateway_factory(client, tier="write").write(
            "post", "/v1/refunds", {"charge": "ch_1"}, idempotency_key=key, tier="money"
        )
    assert client.calls == []


def test_money_in_live_mode_needs_the_engagement_opt_in(
    scripted: Any, reply: Any, gateway_factory: Any, live_key: str
) -> None:
    key = idempotency_key("plan_1", "refund")
    client = scripted(reply.ok({"id": "re_1"}))
    live = dict(api_key=live_key, expected_mode="live", tier="money")
    with pytest.raises(PermissionDenied, match="live mode"):
        gateway_factory(client, **live).write(
            "post", "/v1/refunds", {"charge": "ch_1"}, idempotency_key=key, tier="money"
        )
    assert client.calls == []
    allowed = gateway_factory(client, **live, allow_live_money=True)
    allowed.write("post", "/v1/refunds", {"charge": "ch_1"}, idempotency_key=key, tier="money")
    assert len(client.calls) == 1


def test_write_sends_the_idempotency_key_and_form_body(
    scripted: Any, reply: Any, gateway_factory: Any
) -> None:
    client = scripted(reply.ok({"id": "cus_1", "email": "a@example.com"}))
    key = idempotency_key("eng_1", "repair", "cus_1")
    out = gateway_factory(client, tier="write").write(
        "post", "/v1/customers", {"email": "a@example.com"}, idempotency_key=key
    )
    assert out["id"] == "cus_1"
    method, _, headers = client.calls[0]
    assert method == "post" and headers["Idempotency-Key"] == key


@given(st.lists(st.text(min_size=0, max_size=120), min_size=1, max_size=6))
def test_deterministic_keys_always_fit(parts: list[str]) -> None:
    key = idempotency_key(*parts)
    assert len(key) <= IDEMPOTENCY_KEY_MAX
    assert key == idempotency_key(*parts)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "needs an idempotency key"),
        ("k" * (IDEMPOTENCY_KEY_MAX + 1), "at most 255"),
        ("ключ", "printable ASCII"),
        (" padded", "printable ASCII"),
    ],
)
def test_bad_idempotency_keys_are_refused_before_sending(
    bad: str, why: str, scripted: Any, gateway_factory: Any
) -> None:
    client = scripted()
    with pytest.raises(ValueError, match=why):
        gateway_factory(client, tier="money").write(
            "post", "/v1/customers", {}, idempotency_key=bad
        )
    assert client.calls == []


def test_longest_allowed_key_is_sent(scripted: Any, reply: Any, gateway_factory: Any) -> None:
    client = scripted(reply.ok({"id": "cus_1"}))
    key = "k" * IDEMPOTENCY_KEY_MAX
    gateway_factory(client, tier="write").write("post", "/v1/customers", {}, idempotency_key=key)
    assert client.calls[0][2]["Idempotency-Key"] == key


def test_write_rejects_get_and_foreign_paths(gateway_factory: Any) -> None:
    gateway = gateway_factory(tier="money")
    with pytest.raises(ValueError, match="post or delete"):
        gateway.write("get", "/v1/customers", idempotency_key="k")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a Stripe API path"):
        gateway.write("post", "https://evil.example/v1/x", idempotency_key="k")
    with pytest.raises(ValueError, match="not a Stripe API path"):
        gateway.write("post", "/v1/../admin", idempotency_key="k")


@pytest.mark.parametrize(
    ("status", "kind", "hint_has"),
    [
        (401, StripeAuthError, "sk_/rk_"),
        (403, StripeAuthError, "restricted key"),
        (400, StripeRequestError, None),
        (402, StripeRequestError, None),
        (500, StripeRequestError, "request id"),
    ],
)
def test_error_mapping_by_status(
    status: int,
    kind: type,
    hint_has: str | None,
    scripted: Any,
    reply: Any,
    gateway_factory: Any,
    test_key: str,
) -> None:
    client = scripted(reply.error(status, f"nope for {test_key}", code="some_code"))
    with pytest.raises(kind) as caught:
        gateway_factory(client).retrieve("cus_1")
    err = caught.value
    assert type(err) is kind
    assert (err.http_status, err.code, err.request_id) == (status, "some_code", f"req_{status}")
    assert test_key not in err.message and f"HTTP {status}" in err.message
    if hint_has:
        assert hint_has in err.hint
