"""Fault injection: faulted requests answer Stripe-shaped errors and change nothing."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from sandbox.replica.config import FaultRule, ReplicaConfig
from sandbox.replica.faults import Faults
from sandbox.replica.testing import running_replica


def test_rate_limit_has_retry_after_and_faulted_post_creates_nothing(replica, stripe_client):
    replica.admin.add_fault(method="POST", path="/v1/customers", kind="rate_limit", count=1,
                            retry_after=7)
    raw = httpx.post(replica.url + "/v1/customers", data={"name": "X"},
                     auth=(replica.api_key, ""), headers={"Idempotency-Key": "fault-1"})
    assert raw.status_code == 429
    assert raw.headers["retry-after"] == "7"
    assert raw.json()["error"]["code"] == "rate_limit"
    assert stripe_client.v1.customers.list().data == []
    assert stripe_client.v1.events.list().data == []
    # count=1: the retry with the same key goes through and is not a replay.
    retry = httpx.post(replica.url + "/v1/customers", data={"name": "X"},
                       auth=(replica.api_key, ""), headers={"Idempotency-Key": "fault-1"})
    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    totals = replica.admin.request_totals()
    assert totals["faults"] == {"rate_limit": 1}
    assert totals["by_route_status"]["POST /v1/customers"] == {"200": 1, "429": 1}


def test_sdk_sees_rate_limit_error(replica, stripe_client):
    replica.admin.add_fault(path="/v1/customers*", kind="rate_limit")
    with pytest.raises(stripe.RateLimitError):
        stripe_client.v1.customers.list()
    replica.admin.clear_faults()
    assert stripe_client.v1.customers.list().data == []


def test_lock_timeout_is_retried_by_the_sdk_and_server_error_is_500(replica):
    replica.admin.add_fault(method="POST", path="/v1/products", kind="lock_timeout", count=1)
    client = replica.client(max_network_retries=2)
    product = client.v1.products.create(params={"name": "Survivor"})
    assert product.name == "Survivor"
    assert len(replica.client().v1.products.list().data) == 1
    replica.admin.add_fault(method="GET", path="/v1/products", kind="server_error", count=1)
    with pytest.raises(stripe.APIError) as err:
        replica.client().v1.products.list()
    assert err.value.http_status == 500


def test_latency_slows_but_applies(replica, stripe_client):
    replica.admin.add_fault(method="POST", path="/v1/customers", kind="latency", latency_ms=150,
                            count=1)
    started = time.monotonic()
    stripe_client.v1.customers.create(params={"name": "Slow"})
    assert time.monotonic() - started >= 0.15
    assert len(stripe_client.v1.customers.list().data) == 1


def test_rates_are_deterministic_for_a_seed():
    def hits(seed: int) -> list[bool]:
        faults = Faults([FaultRule(kind="server_error", rate=0.3)], seed)
        return [faults.pick("GET", "/v1/customers") is not None for _ in range(200)]

    assert hits(1) == hits(1)
    assert hits(1) != hits(2)
    assert 30 < sum(hits(1)) < 90


def test_faults_from_config(tmp_path):
    config = ReplicaConfig(db_path=tmp_path / "r.sqlite",
                           faults=[FaultRule(path="/v1/customers", kind="server_error")])
    with running_replica(config.db_path, config=config) as replica:
        with pytest.raises(stripe.APIError):
            replica.client().v1.customers.list()
        assert replica.client().v1.products.list().data == []
