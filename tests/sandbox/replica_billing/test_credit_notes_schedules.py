"""Credit notes (balance credit, refund, pre-payment, void) and subscription schedules."""

from __future__ import annotations

import pytest
import stripe

from tests.sandbox.replica_billing.support import DAY, T0, Billing

JAN, FEB = 31 * DAY, 28 * DAY


def _paid_invoice(billing: Billing, amount: int = 3000) -> stripe.Invoice:
    c = billing.client
    customer = billing.customer()
    draft = c.v1.invoices.create({"customer": customer.id})
    c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": amount,
                               "currency": "usd", "quantity": 1})
    c.v1.invoices.finalize_invoice(draft.id)
    return c.v1.invoices.pay(draft.id)


def test_credit_note_credits_the_customer_balance_and_can_be_voided(billing: Billing):
    c = billing.client
    invoice = _paid_invoice(billing)
    line = invoice.lines.data[0]
    note = c.v1.credit_notes.create({
        "invoice": invoice.id, "credit_amount": 1000, "reason": "order_change",
        "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id,
                   "amount": 1000}]})
    assert note.status == "issued" and note.type == "post_payment" and note.amount == 1000
    assert note.number == f"{invoice.number}-CN-01"
    assert note.lines.data[0].invoice_line_item == line.id
    txn = c.v1.customers.balance_transactions.retrieve(invoice.customer,
                                                       note.customer_balance_transaction)
    assert (txn.type, txn.amount, txn.credit_note) == ("credit_note", -1000, note.id)
    assert c.v1.customers.retrieve(invoice.customer).balance == -1000
    assert c.v1.invoices.retrieve(invoice.id).post_payment_credit_notes_amount == 1000
    assert [n.id for n in c.v1.credit_notes.list({"invoice": invoice.id}).data] == [note.id]
    assert [n.id for n in c.v1.credit_notes.list({"customer": invoice.customer}).data] == [
        note.id]
    with pytest.raises(stripe.InvalidRequestError):  # amounts must add up after payment
        c.v1.credit_notes.create({"invoice": invoice.id, "amount": 500})
    voided = c.v1.credit_notes.void_credit_note(note.id)
    assert voided.status == "void" and voided.voided_at == T0
    assert c.v1.customers.retrieve(invoice.customer).balance == 0
    assert c.v1.invoices.retrieve(invoice.id).post_payment_credit_notes_amount == 0
    types = billing.events(types="credit_note.*")
    assert types == ["credit_note.created", "credit_note.voided"]


def test_credit_note_refund_goes_through_the_payments_module(billing: Billing):
    c = billing.client
    invoice = _paid_invoice(billing, 2000)
    note = c.v1.credit_notes.create({"invoice": invoice.id, "amount": 800,
                                     "refund_amount": 500, "out_of_band_amount": 300})
    refund = c.v1.refunds.retrieve(note.refunds[0].refund)
    assert refund.amount == 500 and note.out_of_band_amount == 300
    record = c.v1.invoice_payments.list({"invoice": invoice.id}).data[0]
    assert refund.payment_intent == record.payment.payment_intent


def test_pre_payment_credit_note_lowers_what_is_due_and_can_settle_it(billing: Billing):
    c = billing.client
    customer = billing.customer(pm=None)
    draft = c.v1.invoices.create({"customer": customer.id, "collection_method": "send_invoice",
                                  "days_until_due": 30})
    c.v1.invoice_items.create({"customer": customer.id, "invoice": draft.id, "amount": 1000,
                               "currency": "usd"})
    invoice = c.v1.invoices.finalize_invoice(draft.id)
    preview = c.v1.credit_notes.preview({"invoice": invoice.id, "amount": 400})
    assert preview.amount == 400 and preview.type == "pre_payment"
    c.v1.credit_notes.create({"invoice": invoice.id, "amount": 400})
    invoice = c.v1.invoices.retrieve(invoice.id)
    assert (invoice.amount_due, invoice.amount_remaining) == (600, 600)
    assert invoice.pre_payment_credit_notes_amount == 400
    c.v1.credit_notes.create({"invoice": invoice.id, "lines": [
        {"type": "custom_line_item", "unit_amount": 300, "quantity": 2,
         "description": "Goodwill"}]})
    assert c.v1.invoices.retrieve(invoice.id).status == "paid"


def test_schedule_moves_the_subscription_through_its_phases(billing: Billing):
    c = billing.client
    intro, full = billing.price(500, name="Intro"), billing.price(2000, name="Full")
    customer = billing.customer()
    sched = c.v1.subscription_schedules.create({
        "customer": customer.id, "start_date": "now", "end_behavior": "cancel",
        "phases": [{"items": [{"price": intro.id}], "iterations": 1},
                   {"items": [{"price": full.id, "quantity": 2}], "iterations": 1}]})
    assert sched.status == "active" and sched.subscription
    assert sched.current_phase.start_date == T0 and sched.current_phase.end_date == T0 + JAN
    assert [p.end_date for p in sched.phases] == [T0 + JAN, T0 + JAN + FEB]
    sub = c.v1.subscriptions.retrieve(sched.subscription)
    assert sub.schedule == sched.id and sub.status == "active"
    assert sub["items"].data[0].price.id == intro.id

    billing.advance(JAN + 3600)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert [(i.price.id, i.quantity) for i in sub["items"].data] == [(full.id, 2)]
    renewal = c.v1.invoices.retrieve(sub.latest_invoice)
    assert renewal.status == "paid" and renewal.amount_paid == 4000  # no prorations
    sched = c.v1.subscription_schedules.retrieve(sched.id)
    assert sched.current_phase.start_date == T0 + JAN

    billing.advance(FEB)
    sched = c.v1.subscription_schedules.retrieve(sched.id)
    assert sched.status == "completed" and sched.completed_at == T0 + JAN + FEB
    assert c.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert "subscription_schedule.completed" in billing.events()


def test_schedule_from_subscription_release_and_cancel(billing: Billing):
    c = billing.client
    price = billing.price(1000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    sched = c.v1.subscription_schedules.create({"from_subscription": sub.id})
    assert sched.subscription == sub.id and sched.phases[0].items[0].price == price.id
    released = c.v1.subscription_schedules.release(sched.id)
    assert released.status == "released" and released.released_subscription == sub.id
    assert c.v1.subscriptions.retrieve(sub.id).schedule is None
    other = c.v1.subscription_schedules.create({"from_subscription": sub.id})
    canceled = c.v1.subscription_schedules.cancel(other.id)
    assert canceled.status == "canceled"
    assert c.v1.subscriptions.retrieve(sub.id).status == "canceled"
