"""Creating subscriptions: the first invoice paid through the payments module, the events
in Stripe's order, and the incomplete paths."""

from __future__ import annotations

import pytest
import stripe

from tests.sandbox.replica_billing.support import DAY, T0, Billing


def test_card_subscription_is_active_with_a_paid_first_invoice_and_linked_money(
        billing: Billing):
    c = billing.client
    price = billing.price(2000)
    customer = billing.customer()
    before = len(billing.events())
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "expand": ["latest_invoice"]})
    assert sub.status == "active"
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, T0 + 31 * DAY)
    invoice = sub.latest_invoice
    assert invoice.status == "paid" and invoice.billing_reason == "subscription_create"
    assert invoice.amount_due == invoice.amount_paid == 2000 and invoice.amount_remaining == 0
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.number.endswith("-0001") and invoice.hosted_invoice_url
    line = invoice.lines.data[0]
    assert line.parent.type == "subscription_item_details"
    assert line.parent.subscription_item_details.subscription_item == item.id
    assert line.pricing.price_details.price == price.id
    assert (line.period.start, line.period.end) == (T0, T0 + 31 * DAY)

    payments = c.v1.invoice_payments.list({"invoice": invoice.id}).data
    assert len(payments) == 1 and payments[0].status == "paid"
    assert payments[0].amount_paid == 2000 and payments[0].is_default
    pi = c.v1.payment_intents.retrieve(payments[0].payment.payment_intent)
    assert pi.status == "succeeded" and pi.amount == 2000 and pi.customer == customer.id
    charge = c.v1.charges.retrieve(pi.latest_charge)
    assert charge.paid and charge.amount == 2000 and charge.payment_intent == pi.id
    txn = c.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert txn.source == charge.id and txn.amount == 2000

    assert billing.events()[before:] == [
        "customer.subscription.created", "invoice.created", "invoice.finalized",
        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
        "invoice_payment.paid", "invoice.paid", "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    created = billing.event_objects("customer.subscription.created")[0]
    assert created["status"] == "incomplete" and created["latest_invoice"] == invoice.id
    updated = c.v1.events.list({"type": "customer.subscription.updated"}).data[0]
    assert updated.data.object["status"] == "active"
    assert updated.data.previous_attributes["status"] == "incomplete"


def test_declined_card_leaves_it_incomplete_and_error_if_incomplete_answers_402(
        billing: Billing):
    c = billing.client
    price = billing.price(1500)
    customer = billing.customer("pm_card_chargeDeclined")
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert sub.status == "incomplete"
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.attempt_count == 1
    assert invoice.next_payment_attempt is None  # the first invoice is not retried
    assert "invoice.payment_failed" in billing.events()
    # Paying with another card later activates it.
    paid = c.v1.invoices.pay(invoice.id, {"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert c.v1.subscriptions.retrieve(sub.id).status == "active"

    with pytest.raises(stripe.CardError) as err:
        c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                   "payment_behavior": "error_if_incomplete"})
    assert err.value.http_status == 402
    assert len(c.v1.subscriptions.list({"customer": customer.id}).data) == 1


def test_default_incomplete_without_payment_method_expires_after_23_hours(billing: Billing):
    c = billing.client
    price = billing.price(900)
    customer = billing.customer(pm=None)
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "payment_behavior": "default_incomplete"})
    assert sub.status == "incomplete"
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.attempt_count == 0
    billing.advance(22 * 3600)
    assert c.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    billing.advance(3600)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "incomplete_expired" and sub.ended_at == T0 + 23 * 3600
    assert c.v1.invoices.retrieve(invoice.id).status == "void"
    # Stripe's default list hides only canceled ones; ``ended`` finds expired ones too.
    assert [s.id for s in c.v1.subscriptions.list({"customer": customer.id}).data] == [sub.id]
    assert [s.id for s in c.v1.subscriptions.list({"status": "ended"}).data] == [sub.id]
    assert c.v1.subscriptions.list({"status": "canceled"}).data == []


def test_requires_action_card_emits_payment_action_required(billing: Billing):
    c = billing.client
    price = billing.price(1200)
    customer = billing.customer("pm_card_authenticationRequired")
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert sub.status == "incomplete"
    assert "invoice.payment_action_required" in billing.events()
    record = c.v1.invoice_payments.list({"invoice": sub.latest_invoice}).data[0]
    assert record.status == "open"


def test_allow_incomplete_needs_a_payment_method_when_something_is_due(billing: Billing):
    c = billing.client
    price = billing.price(900)
    customer = billing.customer(pm=None)
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert "no attached payment source" in str(err.value)
    assert c.v1.invoices.list({"customer": customer.id}).data == []
