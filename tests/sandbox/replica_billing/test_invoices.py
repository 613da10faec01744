"""Invoices: drafts with invoice items, finalise, send, pay out of band, void,
uncollectible, the customer's credit balance, lines, invoice payments."""

from __future__ import annotations

import pytest
import stripe

from tests.sandbox.replica_billing.support import DAY, T0, Billing


def test_send_invoice_subscription_is_open_until_paid_out_of_band(billing: Billing):
    c = billing.client
    price = billing.price(5000)
    customer = billing.customer(pm=None)
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "collection_method": "send_invoice", "days_until_due": 30})
    assert sub.status == "active" and sub.days_until_due == 30
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.due_date == T0 + 30 * DAY
    assert invoice.collection_method == "send_invoice" and invoice.attempt_count == 0
    assert "invoice.sent" in billing.events()
    paid = c.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
    assert paid.status == "paid" and paid.amount_paid == 5000 and paid.amount_remaining == 0
    assert c.v1.invoice_payments.list({"invoice": invoice.id}).data == []
    types = billing.events()
    assert "invoice.paid" in types and "invoice.payment_succeeded" not in types


def test_overdue_send_invoice_makes_the_subscription_past_due(billing: Billing):
    c = billing.client
    price = billing.price(5000)
    customer = billing.customer(pm=None)
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "collection_method": "send_invoice", "days_until_due": 7})
    billing.advance(7 * DAY)
    assert "invoice.overdue" in billing.events()
    assert c.v1.subscriptions.retrieve(sub.id).status == "past_due"


def test_manual_invoice_with_pending_items_finalize_void_and_uncollectible(billing: Billing):
    c = billing.client
    customer = billing.customer(pm=None)
    item = c.v1.invoice_items.create({"customer": customer.id, "amount": 1234,
                                      "currency": "usd", "description": "Setup"})
    assert item.invoice is None
    assert [i.id for i in c.v1.invoice_items.list({"pending": True}).data] == [item.id]
    empty = c.v1.invoices.create({"customer": customer.id})  # Stripe's default: exclude
    assert empty.lines.data == [] and empty.status == "draft"
    c.v1.invoices.delete(empty.id)
    draft = c.v1.invoices.create({"customer": customer.id, "collection_method": "send_invoice",
                                  "days_until_due": 10,
                                  "pending_invoice_items_behavior": "include"})
    assert draft.total == 1234 and draft.lines.data[0].parent.invoice_item_details.invoice_item \
        == item.id
    assert c.v1.invoice_items.retrieve(item.id).invoice == draft.id
    extra = c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id,
                                       "amount": 766, "currency": "usd"})
    lines = c.v1.invoices.line_items.list(draft.id, {"limit": 1})
    assert len(lines.data) == 1 and lines.has_more
    opened = c.v1.invoices.finalize_invoice(draft.id)
    assert opened.status == "open" and opened.amount_due == 2000
    assert opened.number and opened.status_transitions.finalized_at == T0
    with pytest.raises(stripe.InvalidRequestError):
        c.v1.invoice_items.update(extra.id, {"amount": 1})
    voided = c.v1.invoices.void_invoice(opened.id)
    assert voided.status == "void" and voided.status_transitions.voided_at == T0

    other = c.v1.invoices.create({"customer": customer.id, "collection_method": "send_invoice",
                                  "days_until_due": 10})
    c.v1.invoice_items.create({"customer": customer.id, "invoice": other.id, "amount": 300,
                               "currency": "usd"})
    c.v1.invoices.finalize_invoice(other.id)
    lost = c.v1.invoices.mark_uncollectible(other.id)
    assert lost.status == "uncollectible"
    paid = c.v1.invoices.pay(other.id, {"paid_out_of_band": True})
    assert paid.status == "paid"
    types = billing.events(types="invoice.*")
    for kind in ("invoice.created", "invoice.finalized", "invoice.voided",
                 "invoice.marked_uncollectible", "invoice.paid", "invoice.deleted"):
        assert kind in types


def test_invoice_paid_entirely_from_the_credit_balance(billing: Billing):
    c = billing.client
    customer = billing.customer(pm=None)
    txn = c.v1.customers.balance_transactions.create(customer.id, {
        "amount": -5000, "currency": "usd", "description": "Goodwill credit"})
    assert txn.type == "adjustment" and txn.ending_balance == -5000
    assert c.v1.customers.retrieve(customer.id).balance == -5000
    draft = c.v1.invoices.create({"customer": customer.id, "auto_advance": True})
    c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": 1800,
                               "currency": "usd"})
    invoice = c.v1.invoices.finalize_invoice(draft.id)
    assert invoice.status == "paid" and invoice.amount_due == 0 and invoice.total == 1800
    assert (invoice.starting_balance, invoice.ending_balance) == (-5000, -3200)
    assert c.v1.customers.retrieve(customer.id).balance == -3200
    txns = c.v1.customers.balance_transactions.list(customer.id).data
    assert [(t.type, t.amount, t.invoice) for t in txns][0] == (
        "applied_to_invoice", 1800, invoice.id)
    # A partly covered invoice asks only for the rest.
    draft = c.v1.invoices.create({"customer": customer.id})
    c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": 5000,
                               "currency": "usd"})
    invoice = c.v1.invoices.finalize_invoice(draft.id)
    assert invoice.status == "open" and invoice.amount_due == 1800
    assert c.v1.customers.retrieve(customer.id).balance == 0
    c.v1.invoices.void_invoice(invoice.id)  # voiding gives the credit back
    assert c.v1.customers.retrieve(customer.id).balance == -3200


def test_manual_charge_automatically_invoice_collects_when_paid(billing: Billing):
    c = billing.client
    customer = billing.customer()
    draft = c.v1.invoices.create({"customer": customer.id, "auto_advance": True})
    assert draft.automatically_finalizes_at == T0 + 3600
    c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": 4200,
                               "currency": "usd"})
    billing.advance(3600)
    invoice = c.v1.invoices.retrieve(draft.id)
    assert invoice.status == "paid" and invoice.amount_paid == 4200
    record = c.v1.invoice_payments.list({"invoice": invoice.id}).data[0]
    assert c.v1.invoice_payments.retrieve(record.id).payment.payment_intent.startswith("pi_")
    declined = billing.customer("pm_card_chargeDeclined")
    draft = c.v1.invoices.create({"customer": declined.id})
    c.v1.invoice_items.create({"customer": declined.id, "invoice": draft.id, "amount": 100,
                               "currency": "usd"})
    with pytest.raises(stripe.CardError) as err:
        c.v1.invoices.pay(draft.id)
    assert err.value.code == "card_declined"
    invoice = c.v1.invoices.retrieve(draft.id)
    assert invoice.status == "open" and invoice.attempt_count == 1
