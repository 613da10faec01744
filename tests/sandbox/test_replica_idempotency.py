"""Idempotency keys: exact replay, conflicts, scoping, pruning after 24 h of replica clock."""

from __future__ import annotations

import httpx
import pytest
import stripe


def _post(replica, path, data, key, account=None):
    headers = {"Idempotency-Key": key}
    if account:
        headers["Stripe-Account"] = account
    return httpx.post(replica.url + path, data=data, headers=headers, auth=(replica.api_key, ""))


def test_replay_returns_byte_identical_answer_and_creates_once(replica, stripe_client):
    first = _post(replica, "/v1/customers", {"email": "x@example.com"}, "k-1")
    second = _post(replica, "/v1/customers", {"email": "x@example.com"}, "k-1")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["original-request"] == first.headers["request-id"]
    assert second.headers["request-id"] != first.headers["request-id"]
    assert len(stripe_client.v1.customers.list().data) == 1
    created = stripe_client.v1.events.list(params={"type": "customer.created"}).data
    assert len(created) == 1


def test_sdk_replay_same_object_and_conflict_raises_idempotency_error(replica, stripe_client):
    opts = {"idempotency_key": "same-key"}
    a = stripe_client.v1.customers.create(params={"name": "A"}, options=opts)
    b = stripe_client.v1.customers.create(params={"name": "A"}, options=opts)
    assert a.id == b.id and a.to_dict() == b.to_dict()
    assert len(stripe_client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as err:
        stripe_client.v1.customers.create(params={"name": "B"}, options=opts)
    assert err.value.http_status == 400
    assert err.value.error.type == "idempotency_error"
    # Same key on another path is a different request too.
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.products.create(params={"name": "A"}, options=opts)


def test_keys_are_scoped_per_account(replica, stripe_client):
    acct = stripe_client.v1.accounts.create(params={"type": "custom", "country": "DE"})
    on_platform = _post(replica, "/v1/customers", {"name": "P"}, "shared")
    on_connected = _post(replica, "/v1/customers", {"name": "P"}, "shared", account=acct.id)
    assert on_platform.json()["id"] != on_connected.json()["id"]
    assert "idempotent-replayed" not in on_connected.headers


def test_validation_errors_are_not_stored(replica):
    bad = _post(replica, "/v1/customers", {"tax_exempt": "sometimes"}, "k-err")
    assert bad.status_code == 400
    good = _post(replica, "/v1/customers", {"tax_exempt": "exempt"}, "k-err2")
    assert good.status_code == 200
    retry = _post(replica, "/v1/customers", {"tax_exempt": "sometimes"}, "k-err")
    assert retry.status_code == 400 and "idempotent-replayed" not in retry.headers


def test_keys_are_pruned_after_24h_of_replica_clock(replica):
    first = _post(replica, "/v1/customers", {"name": "Old"}, "k-old")
    replica.admin.advance_clock(24 * 3600 + 5)
    again = _post(replica, "/v1/customers", {"name": "Old"}, "k-old")
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
