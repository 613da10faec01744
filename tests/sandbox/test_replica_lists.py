"""Lists, pagination, created filters, expand and error shapes against a seeded replica."""

from __future__ import annotations

import httpx
import pytest
import stripe

from sandbox.replica.seed import SeedResult
from sandbox.replica.testing import ReplicaHandle


def test_auto_paging_returns_every_seeded_customer_exactly_once(seeded, seeded_client):
    _, result = seeded
    ids = [c.id for c in seeded_client.v1.customers.list(params={"limit": 100}).auto_paging_iter()]
    assert len(ids) == 250 == len(set(ids))
    assert set(ids) == set(result.customers)


def test_newest_first_and_cursors_both_ways(seeded_client, seeded):
    _, result = seeded
    newest_first = list(reversed(result.customers))  # created in order, same second possible
    page1 = seeded_client.v1.customers.list(params={"limit": 10})
    assert [c.id for c in page1.data] == newest_first[:10]
    assert page1.has_more is True
    page2 = seeded_client.v1.customers.list(
        params={"limit": 10, "starting_after": page1.data[-1].id})
    assert [c.id for c in page2.data] == newest_first[10:20]
    back = seeded_client.v1.customers.list(
        params={"limit": 10, "ending_before": page2.data[0].id})
    assert [c.id for c in back.data] == newest_first[:10]
    assert back.has_more is False
    last = seeded_client.v1.customers.list(
        params={"limit": 100, "starting_after": newest_first[-6]})
    assert [c.id for c in last.data] == newest_first[-5:]
    assert last.has_more is False
    assert page1.url == "/v1/customers"


def test_created_filters(seeded: tuple[ReplicaHandle, SeedResult], seeded_client):
    all_customers = list(
        seeded_client.v1.customers.list(params={"limit": 100}).auto_paging_iter())
    stamps = sorted({c.created for c in all_customers})
    pivot = stamps[len(stamps) // 2]
    gte = list(seeded_client.v1.customers.list(
        params={"limit": 100, "created": {"gte": pivot}}).auto_paging_iter())
    lt = list(seeded_client.v1.customers.list(
        params={"limit": 100, "created": {"lt": pivot}}).auto_paging_iter())
    assert len(gte) + len(lt) == 250
    assert all(c.created >= pivot for c in gte) and all(c.created < pivot for c in lt)
    exact = seeded_client.v1.customers.list(params={"limit": 100, "created": pivot})
    assert exact.data and all(c.created == pivot for c in exact.data)


def test_equality_filters_and_lookup_keys(seeded_client, seeded):
    _, result = seeded
    prices = seeded_client.v1.prices.list(
        params={"lookup_keys": ["pro_month", "starter_year"], "limit": 10})
    assert {p.lookup_key for p in prices.data} == {"pro_month", "starter_year"}
    assert {p.id for p in prices.data} == {
        result.prices["pro_month"], result.prices["starter_year"]}
    yearly = seeded_client.v1.prices.list(params={"recurring": {"interval": "year"}})
    assert len(yearly.data) == 3 and all(p.recurring.interval == "year" for p in yearly.data)
    one = seeded_client.v1.customers.list(params={"email": "nobody@example.com"})
    assert one.data == []
    target = seeded_client.v1.customers.retrieve(result.customers[3])
    found = seeded_client.v1.customers.list(params={"email": target.email})
    assert [c.id for c in found.data] == [target.id]
    by_product = seeded_client.v1.prices.list(params={"product": result.products[0]})
    assert len(by_product.data) == 2


def test_expand_on_retrieve_and_list(seeded_client, seeded):
    _, result = seeded
    price = seeded_client.v1.prices.retrieve(result.prices["pro_month"],
                                             params={"expand": ["product"]})
    assert isinstance(price.product, stripe.Product) and price.product.name == "Pro"
    listed = seeded_client.v1.prices.list(params={"limit": 3, "expand": ["data.product"]})
    assert all(isinstance(p.product, stripe.Product) for p in listed.data)
    deep = seeded_client.v1.prices.retrieve(
        result.prices["pro_month"], params={"expand": ["product.default_price"]})
    assert deep.product.default_price.id == result.prices["pro_month"]
    with pytest.raises(stripe.InvalidRequestError) as too_deep:
        seeded_client.v1.prices.retrieve(result.prices["pro_month"],
                                         params={"expand": ["a.b.c.d.e"]})
    assert "more than 4 levels" in too_deep.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as not_expandable:
        seeded_client.v1.prices.retrieve(result.prices["pro_month"],
                                         params={"expand": ["currency"]})
    assert "cannot be expanded" in not_expandable.value.user_message


def test_error_shapes(seeded, seeded_client):
    handle, _ = seeded
    with pytest.raises(stripe.InvalidRequestError) as missing:
        seeded_client.v1.customers.retrieve("cus_doesnotexist")
    err = missing.value
    assert err.http_status == 404 and err.code == "resource_missing" and err.param == "id"
    assert err.request_id.startswith("req_")
    assert err.json_body["error"]["doc_url"].startswith("https://stripe.com/docs/error-codes/")
    assert err.user_message == "No such customer: 'cus_doesnotexist'"
    for limit in (0, 101):
        with pytest.raises(stripe.InvalidRequestError) as bad:
            seeded_client.v1.customers.list(params={"limit": limit})
        assert bad.value.http_status == 400 and bad.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as wrong_type:
        seeded_client.v1.products.retrieve(seeded[1].customers[0])
    assert wrong_type.value.http_status == 404
    raw = httpx.get(handle.url + "/v1/nothing_here", auth=(handle.api_key, ""))
    assert raw.status_code == 404
    assert raw.json()["error"]["type"] == "invalid_request_error"
    assert raw.headers["request-id"].startswith("req_")
    unknown = httpx.post(handle.url + "/v1/customers", auth=(handle.api_key, ""),
                         data={"colour": "blue"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "colour"
    assert unknown.headers["stripe-version"] == "2026-10-28.endive"
    bad_cursor = httpx.get(handle.url + "/v1/customers", params={"starting_after": "cus_nope"},
                           auth=(handle.api_key, ""))
    assert bad_cursor.status_code == 404
    assert bad_cursor.json()["error"]["param"] == "starting_after"


def test_request_log_counts_calls_by_route(seeded):
    handle, _ = seeded
    before = handle.admin.request_totals()
    client = handle.client()
    for cid in seeded[1].customers[:5]:
        client.v1.customers.retrieve(cid)
    after = handle.admin.request_totals(since_seq=before["last_seq"])
    assert after["by_route"] == {"GET /v1/customers/{id}": 5}
    assert after["by_status"] == {"200": 5}
