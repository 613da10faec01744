"""API keys (test only, bearer or basic) and Stripe-Account scoping of every object."""

from __future__ import annotations

import httpx
import pytest
import stripe


def test_missing_malformed_and_live_keys_are_refused(replica):
    no_key = httpx.get(replica.url + "/v1/customers")
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "invalid_request_error"
    assert no_key.headers["request-id"].startswith("req_")
    garbage = httpx.get(replica.url + "/v1/customers", headers={"Authorization": "Bearer nope"})
    assert garbage.status_code == 401
    live = stripe.StripeClient("sk_live_abcdefghijklmnop", base_addresses={"api": replica.url},
                               max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as err:
        live.v1.customers.list()
    assert "test mode only" in err.value.user_message
    assert "abcdefghijklmnop" not in err.value.user_message  # key is redacted
    rk_live = httpx.get(replica.url + "/v1/customers", auth=("rk_live_abcdefghijkl", ""))
    assert rk_live.status_code == 401


def test_bearer_basic_and_restricted_test_keys_work(replica):
    assert httpx.get(replica.url + "/v1/customers", auth=("sk_test_123", "")).status_code == 200
    headers = {"Authorization": "Bearer rk_test_abc"}
    assert httpx.get(replica.url + "/v1/customers", headers=headers).status_code == 200


def test_stripe_account_scopes_objects_and_events(replica, stripe_client):
    acct = stripe_client.v1.accounts.create(
        params={"type": "express", "country": "FR", "email": "shop@example.fr"})
    assert acct.id.startswith("acct_") and acct.default_currency == "eur"
    connected = replica.client(stripe_account=acct.id)
    theirs = connected.v1.customers.create(params={"name": "Connected customer"})
    mine = stripe_client.v1.customers.create(params={"name": "Platform customer"})
    assert [c.id for c in connected.v1.customers.list().data] == [theirs.id]
    assert [c.id for c in stripe_client.v1.customers.list().data] == [mine.id]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.retrieve(theirs.id)
    event = connected.v1.events.list().data[0]
    assert event.type == "customer.created" and event.account == acct.id
    assert "account" not in stripe_client.v1.events.list().data[0]
    assert connected.v1.accounts.retrieve_current().id == acct.id
    assert stripe_client.v1.accounts.retrieve_current().id == "acct_fdesandbox000000"
    assert [a.id for a in stripe_client.v1.accounts.list().data] == [acct.id]


def test_unknown_connected_account_is_refused(replica):
    client = replica.client(stripe_account="acct_unknown000000")
    with pytest.raises(stripe.PermissionError) as err:
        client.v1.customers.list()
    assert err.value.http_status == 403
    assert err.value.json_body["error"]["code"] == "account_invalid"
