"""Products, prices, webhook endpoints and billing meters: the resource rules."""

from __future__ import annotations

import pytest
import stripe


def test_products_and_prices(stripe_client):
    product = stripe_client.v1.products.create(
        params={"name": "Gold", "id": "prod_gold", "metadata": {"tier": "3"}})
    assert product.id == "prod_gold" and product.active is True
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.products.create(params={"name": "Gold again", "id": "prod_gold"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.products.create(params={"description": "no name"})
    assert missing.value.param == "name" and missing.value.code == "parameter_missing"
    price = stripe_client.v1.prices.create(params={
        "product": product.id, "currency": "EUR", "unit_amount": 1234, "lookup_key": "gold",
        "recurring": {"interval": "month", "interval_count": 3}})
    assert (price.currency, price.unit_amount) == ("eur", 1234)
    assert str(price.unit_amount_decimal) == "1234"  # the SDK parses it as Decimal
    assert price.type == "recurring" and price.recurring.interval_count == 3
    one_time = stripe_client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 500, "product_data": {"name": "Inline"}})
    assert one_time.type == "one_time" and one_time.recurring is None
    assert stripe_client.v1.products.retrieve(one_time.product).name == "Inline"
    with pytest.raises(stripe.InvalidRequestError) as taken:
        stripe_client.v1.prices.create(params={
            "product": product.id, "currency": "eur", "unit_amount": 1, "lookup_key": "gold"})
    assert taken.value.param == "lookup_key"
    moved = stripe_client.v1.prices.create(params={
        "product": product.id, "currency": "eur", "unit_amount": 2000, "lookup_key": "gold",
        "transfer_lookup_key": True})
    assert stripe_client.v1.prices.retrieve(price.id).lookup_key is None
    assert [p.id for p in stripe_client.v1.prices.list(params={"lookup_keys": ["gold"]}).data] == [
        moved.id]
    with pytest.raises(stripe.InvalidRequestError) as no_product:
        stripe_client.v1.prices.create(params={"product": "prod_nope", "currency": "usd",
                                               "unit_amount": 1})
    assert no_product.value.param == "product" and no_product.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.products.delete(product.id)  # has prices
    lonely = stripe_client.v1.products.create(params={"name": "Lonely"})
    assert stripe_client.v1.products.delete(lonely.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.products.retrieve(lonely.id)
    active = stripe_client.v1.products.list(params={"active": True, "ids": [product.id]})
    assert [p.id for p in active.data] == [product.id]
    updated = stripe_client.v1.products.update(product.id, params={"default_price": moved.id,
                                                                   "description": ""})
    assert updated.default_price == moved.id and updated.description is None


def test_webhook_endpoint_crud(stripe_client):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"],
                "metadata": {"team": "billing"}})
    assert endpoint.status == "enabled" and endpoint.enabled_events == ["*"]
    updated = stripe_client.v1.webhook_endpoints.update(
        endpoint.id, params={"enabled_events": ["invoice.paid"], "disabled": True})
    assert updated.status == "disabled" and updated.enabled_events == ["invoice.paid"]
    listed = stripe_client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [endpoint.id]
    assert all("secret" not in e.to_dict() for e in listed.data)
    assert stripe_client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    assert stripe_client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as bad:
        stripe_client.v1.webhook_endpoints.create(params={"url": "not a url",
                                                          "enabled_events": ["*"]})
    assert bad.value.param == "url"


def test_billing_meters_and_meter_events(replica, stripe_client):
    customer = stripe_client.v1.customers.create(params={"name": "Metered"})
    meter = stripe_client.v1.billing.meters.create(params={
        "display_name": "Calls", "event_name": "calls",
        "default_aggregation": {"formula": "sum"}})
    assert meter.id.startswith("mtr_") and meter.status == "active"
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.billing.meters.create(params={
            "display_name": "Dup", "event_name": "calls",
            "default_aggregation": {"formula": "sum"}})
    now = replica.admin.now()
    first = stripe_client.v1.billing.meter_events.create(params={
        "event_name": "calls", "identifier": "call-1", "timestamp": now - 10,
        "payload": {"stripe_customer_id": customer.id, "value": "5"}})
    again = stripe_client.v1.billing.meter_events.create(params={
        "event_name": "calls", "identifier": "call-1", "timestamp": now - 10,
        "payload": {"stripe_customer_id": customer.id, "value": "5"}})
    assert first.to_dict() == again.to_dict() and first.object == "billing.meter_event"
    stripe_client.v1.billing.meter_events.create(params={
        "event_name": "calls", "payload": {"stripe_customer_id": customer.id, "value": "7"}})
    summaries = stripe_client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": customer.id, "start_time": now // 60 * 60 - 3600,
                          "end_time": now // 60 * 60 + 120})
    assert summaries.data[0].aggregated_value == 12
    with pytest.raises(stripe.InvalidRequestError) as stale:
        stripe_client.v1.billing.meter_events.create(params={
            "event_name": "calls", "timestamp": now - 40 * 86400,
            "payload": {"stripe_customer_id": customer.id, "value": "1"}})
    assert stale.value.param == "timestamp"
    off = stripe_client.v1.billing.meters.deactivate(meter.id)
    assert off.status == "inactive" and off.status_transitions.deactivated_at is not None
    assert stripe_client.v1.billing.meters.list(params={"status": "active"}).data == []
    assert stripe_client.v1.billing.meters.reactivate(meter.id).status == "active"
    renamed = stripe_client.v1.billing.meters.update(meter.id, params={"display_name": "Calls!"})
    assert renamed.display_name == "Calls!"
    types = [e.type for e in stripe_client.v1.events.list(params={"type": "billing.meter.*"}).data]
    assert types == ["billing.meter.updated", "billing.meter.reactivated",
                     "billing.meter.deactivated", "billing.meter.created"]


def test_meter_event_summaries_grouped_by_day_and_paged(replica, stripe_client):
    customer = stripe_client.v1.customers.create(params={"name": "Daily"})
    meter = stripe_client.v1.billing.meters.create(params={
        "display_name": "Rows", "event_name": "rows", "default_aggregation": {"formula": "sum"}})
    day = 86400
    today = replica.admin.now() // day * day
    for back, value in ((3, 4), (3, 6), (2, 10), (0, 1)):  # two events on one day, a gap
        stripe_client.v1.billing.meter_events.create(params={
            "event_name": "rows", "timestamp": today - back * day + 60,
            "payload": {"stripe_customer_id": customer.id, "value": str(value)}})
    window = {"customer": customer.id, "start_time": today - 5 * day,
              "end_time": today + day, "value_grouping_window": "day"}
    listed = list(stripe_client.v1.billing.meters.event_summaries.list(
        meter.id, params={**window, "limit": 2}).auto_paging_iter())
    # newest first; days without events are left out; paging by id gives each day once
    assert [(s.start_time, s.end_time, s.aggregated_value) for s in listed] == [
        (today, today + day, 1), (today - 2 * day, today - day, 10),
        (today - 3 * day, today - 2 * day, 10)]
    again = stripe_client.v1.billing.meters.event_summaries.list(meter.id, params=window)
    assert [s.id for s in again.data] == [s.id for s in listed]  # ids are stable
    with pytest.raises(stripe.InvalidRequestError) as unaligned:
        stripe_client.v1.billing.meters.event_summaries.list(
            meter.id, params={**window, "start_time": today - 5 * day + 60})
    assert unaligned.value.param == "start_time" and "day" in str(unaligned.value)
