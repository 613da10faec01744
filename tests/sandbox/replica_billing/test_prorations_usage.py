"""Prorations (integer math, exact amounts), ``create_preview``, metered usage."""

from __future__ import annotations

from tests.sandbox.replica_billing.support import DAY, T0, Billing

JAN = 31 * DAY
# Upgrade 10 days into a 31-day period: 21 of 31 days remain.
UNUSED = -677  # -round(1000 × 21 / 31) = -677.42
REMAINING = 2032  # round(3000 × 21 / 31) = 2032.26


def test_upgrade_prorates_exactly_and_the_preview_matches(billing: Billing):
    c = billing.client
    basic, pro = billing.price(1000, name="Basic"), billing.price(3000, name="Pro")
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": basic.id}]})
    item = sub["items"].data[0]
    billing.advance(10 * DAY)
    change = {"items": [{"id": item.id, "price": pro.id}], "proration_date": T0 + 10 * DAY}

    preview = c.v1.invoices.create_preview({"subscription": sub.id,
                                            "subscription_details": change})
    assert preview.id.startswith("upcoming_") and preview.billing_reason == "upcoming"
    assert [line.amount for line in preview.lines.data] == [UNUSED, REMAINING, 3000]
    assert preview.lines.data[0].parent.invoice_item_details.proration is True
    assert preview.total == preview.amount_due == UNUSED + REMAINING + 3000

    sub = c.v1.subscriptions.update(sub.id, change)
    assert sub["items"].data[0].id == item.id and sub["items"].data[0].price.id == pro.id
    pending = c.v1.invoice_items.list({"customer": customer.id, "pending": True}).data
    assert sorted(i.amount for i in pending) == [UNUSED, REMAINING]
    assert all(i.proration and i.parent.subscription_details.subscription == sub.id
               for i in pending)
    unused = next(i for i in pending if i.amount < 0)
    assert unused.description == "Unused time on 1 × Basic after 11 Jan 2026"
    assert (unused.period.start, unused.period.end) == (T0 + 10 * DAY, T0 + JAN)

    billing.advance(JAN - 10 * DAY + 3600)
    invoice = c.v1.invoices.retrieve(c.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert invoice.status == "paid"
    assert sorted(line.amount for line in invoice.lines.data) == sorted(
        [UNUSED, REMAINING, 3000])
    assert invoice.amount_paid == UNUSED + REMAINING + 3000 == 4355


def test_always_invoice_bills_the_quantity_change_at_once(billing: Billing):
    c = billing.client
    price = billing.price(1000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    billing.advance(10 * DAY)
    sub = c.v1.subscriptions.update(sub.id, {
        "items": [{"id": sub["items"].data[0].id, "quantity": 3}],
        "proration_behavior": "always_invoice"})
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert sorted(line.amount for line in invoice.lines.data) == [UNUSED, REMAINING]
    assert c.v1.invoice_items.list({"customer": customer.id, "pending": True}).data == []


def test_preview_for_a_new_subscription_and_for_pending_items(billing: Billing):
    c = billing.client
    price = billing.price(1500)
    customer = billing.customer(pm=None)
    c.v1.customers.balance_transactions.create(customer.id, {"amount": -500, "currency": "usd"})
    preview = c.v1.invoices.create_preview({
        "customer": customer.id,
        "subscription_details": {"items": [{"price": price.id, "quantity": 2}]}})
    assert preview.billing_reason == "subscription_create" and preview.total == 3000
    assert preview.amount_due == 2500 and preview.starting_balance == -500
    c.v1.invoice_items.create({"customer": customer.id, "amount": 700, "currency": "usd"})
    preview = c.v1.invoices.create_preview({"customer": customer.id})
    assert preview.total == 700 and preview.amount_due == 200
    assert c.v1.invoices.list({"customer": customer.id}).data == []  # nothing stored


def test_metered_price_is_billed_from_meter_events_at_renewal(billing: Billing):
    c = billing.client
    meter = c.v1.billing.meters.create({
        "display_name": "API calls", "event_name": "api_call",
        "default_aggregation": {"formula": "sum"}})
    product = c.v1.products.create({"name": "API"})
    price = c.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 5,
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}})
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    first = c.v1.invoices.retrieve(sub.latest_invoice)
    assert first.status == "paid" and first.amount_due == 0
    assert sub["items"].data[0].quantity is None
    billing.advance(5 * DAY)
    for n, value in enumerate((120, 80, 300)):
        c.v1.billing.meter_events.create({
            "event_name": "api_call", "identifier": f"evt-{n}",
            "payload": {"stripe_customer_id": customer.id, "value": str(value)}})
    c.v1.billing.meter_events.create({  # a repeated identifier counts once
        "event_name": "api_call", "identifier": "evt-0",
        "payload": {"stripe_customer_id": customer.id, "value": "120"}})
    other = billing.customer()
    c.v1.billing.meter_events.create({"event_name": "api_call", "payload": {
        "stripe_customer_id": other.id, "value": "999"}})
    billing.advance(JAN - 5 * DAY + 3600)
    invoice = c.v1.invoices.retrieve(c.v1.subscriptions.retrieve(sub.id).latest_invoice)
    line = invoice.lines.data[0]
    assert (line.quantity, line.amount) == (500, 2500)
    assert (line.period.start, line.period.end) == (T0, T0 + JAN)
    assert invoice.status == "paid" and invoice.amount_paid == 2500


def test_cancel_with_prorate_and_invoice_now_credits_the_unused_time(billing: Billing):
    c = billing.client
    price = billing.price(1000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    billing.advance(10 * DAY)
    sub = c.v1.subscriptions.cancel(sub.id, {"prorate": True, "invoice_now": True})
    assert sub.status == "canceled" and sub.canceled_at == T0 + 10 * DAY
    final = c.v1.invoices.retrieve(sub.latest_invoice)
    assert final.total == UNUSED and final.amount_due == 0 and final.status == "paid"
    assert (final.starting_balance, final.ending_balance) == (0, UNUSED)
    assert c.v1.customers.retrieve(customer.id).balance == UNUSED


def test_future_billing_cycle_anchor_prorates_the_stub_period(billing: Billing):
    c = billing.client
    price = billing.price(3100)
    customer = billing.customer()
    anchor = T0 + 10 * DAY  # Jan 11: the stub is 10 days of a Dec 11 – Jan 11 period
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "billing_cycle_anchor": anchor})
    assert sub.billing_cycle_anchor == anchor
    assert sub["items"].data[0].current_period_end == anchor
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.amount_paid == 1000  # round(3100 × 10 / 31)
    billing.advance(10 * DAY + 3600)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub["items"].data[0].current_period_end == T0 + (10 + 31) * DAY
    assert c.v1.invoices.retrieve(sub.latest_invoice).amount_paid == 3100


def test_tiered_prices_are_billed_by_their_tiers(billing: Billing):
    c = billing.client
    product = c.v1.products.create({"name": "Seats"})
    tiers = [{"up_to": 10, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 700}]
    graduated = c.v1.prices.create({"product": product.id, "currency": "eur",
                                    "billing_scheme": "tiered", "tiers_mode": "graduated",
                                    "tiers": tiers, "recurring": {"interval": "month"}})
    volume = c.v1.prices.create({"product": product.id, "currency": "eur",
                                 "billing_scheme": "tiered", "tiers_mode": "volume",
                                 "tiers": tiers, "recurring": {"interval": "month"}})
    assert graduated.billing_scheme == "tiered" and graduated.unit_amount is None
    for price, expected in ((graduated, 10 * 1000 + 5 * 700), (volume, 15 * 700)):
        sub = c.v1.subscriptions.create({"customer": billing.customer().id,
                                         "items": [{"price": price.id, "quantity": 15}]})
        invoice = c.v1.invoices.retrieve(sub.latest_invoice)
        assert (invoice.amount_paid, invoice.status) == (expected, "paid")


def test_tiered_price_without_tiers_is_refused(billing: Billing):
    import pytest
    import stripe

    product = billing.client.v1.products.create({"name": "Seats"})
    with pytest.raises(stripe.InvalidRequestError, match="tiers"):
        billing.client.v1.prices.create({"product": product.id, "currency": "eur",
                                         "billing_scheme": "tiered", "tiers_mode": "graduated",
                                         "recurring": {"interval": "month"}})
