"""Subscriptions on the replica clock: trials, renewals, dunning, bank debits, pausing."""

from __future__ import annotations

from tests.sandbox.replica_billing.support import DAY, T0, Billing

JAN, FEB = 31 * DAY, 28 * DAY


def _invoices(billing: Billing, sub_id: str) -> list:
    return list(reversed(billing.client.v1.invoices.list({"subscription": sub_id}).data))


def test_trial_becomes_active_at_trial_end_with_an_invoice(billing: Billing):
    c = billing.client
    price = billing.price(3000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "trial_period_days": 14})
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    first = c.v1.invoices.retrieve(sub.latest_invoice)
    assert first.status == "paid" and first.amount_due == 0
    assert first.lines.data[0].description.startswith("Trial period for")

    billing.advance(11 * DAY)
    assert "customer.subscription.trial_will_end" in billing.events()
    billing.advance(3 * DAY)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active" and sub.billing_cycle_anchor == T0 + 14 * DAY
    assert sub["items"].data[0].current_period_start == T0 + 14 * DAY
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_cycle" and invoice.status == "draft"
    assert invoice.automatically_finalizes_at == T0 + 14 * DAY + 3600
    billing.advance(3600)
    invoice = c.v1.invoices.retrieve(invoice.id)
    assert invoice.status == "paid" and invoice.amount_paid == 3000


def test_trial_without_payment_method_pauses_or_cancels(billing: Billing):
    c = billing.client
    price = billing.price(3000)
    customer = billing.customer(pm=None)
    paused = c.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id}], "trial_period_days": 7,
        "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}}})
    canceled = c.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id}], "trial_period_days": 7,
        "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}}})
    billing.advance(7 * DAY)
    assert c.v1.subscriptions.retrieve(paused.id).status == "paused"
    assert c.v1.subscriptions.retrieve(canceled.id).status == "canceled"
    assert "customer.subscription.paused" in billing.events()
    # Resuming a paused subscription starts a paid period now.
    card = c.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    c.v1.subscriptions.update(paused.id, {"default_payment_method": card.id})
    resumed = c.v1.subscriptions.resume(paused.id)
    assert resumed.status == "active" and resumed.billing_cycle_anchor == T0 + 7 * DAY
    invoice = c.v1.invoices.retrieve(resumed.latest_invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 3000
    assert "customer.subscription.resumed" in billing.events()


def test_renewal_creates_a_cycle_invoice_and_collects_it(billing: Billing):
    c = billing.client
    price = billing.price(2500)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    billing.advance(JAN)
    sub = c.v1.subscriptions.retrieve(sub.id)
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0 + JAN, T0 + JAN + FEB)
    cycle = c.v1.invoices.retrieve(sub.latest_invoice)
    assert cycle.billing_reason == "subscription_cycle" and cycle.status == "draft"
    assert (cycle.period_start, cycle.period_end) == (T0, T0 + JAN)
    billing.advance(3600)
    cycle = c.v1.invoices.retrieve(cycle.id)
    assert cycle.status == "paid" and cycle.amount_paid == 2500
    assert cycle.lines.data[0].period.start == T0 + JAN
    assert [i.billing_reason for i in _invoices(billing, sub.id)] == [
        "subscription_create", "subscription_cycle"]
    assert c.v1.subscriptions.retrieve(sub.id).status == "active"


def test_failing_renewal_goes_past_due_then_canceled_after_the_dunning_schedule(
        billing: Billing):
    c = billing.client
    price = billing.price(4000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    declined = c.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": customer.id})
    c.v1.subscriptions.update(sub.id, {"default_payment_method": declined.id})
    billing.advance(JAN + 3600)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    failed_at = T0 + JAN + 3600
    assert invoice.status == "open" and invoice.attempt_count == 1
    assert invoice.next_payment_attempt == failed_at + 3 * DAY
    billing.advance(3 * DAY)
    assert c.v1.invoices.retrieve(invoice.id).next_payment_attempt == failed_at + 5 * DAY
    billing.advance(2 * DAY)
    assert c.v1.invoices.retrieve(invoice.id).next_payment_attempt == failed_at + 7 * DAY
    assert c.v1.subscriptions.retrieve(sub.id).status == "past_due"
    billing.advance(2 * DAY)
    invoice = c.v1.invoices.retrieve(invoice.id)
    assert invoice.attempt_count == 4 and invoice.next_payment_attempt is None
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled" and sub.cancellation_details.reason == "payment_failed"
    assert sub.ended_at == failed_at + 7 * DAY
    assert billing.events(types="invoice.payment_failed").count("invoice.payment_failed") == 4


def test_dunning_end_state_unpaid_and_recovery(billing: Billing):
    c = billing.client
    price = billing.price(4000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id}],
        "metadata": {"replica_dunning_end": "unpaid", "replica_dunning_retry_days": "1"}})
    declined = c.v1.payment_methods.attach("pm_card_chargeDeclined", {"customer": customer.id})
    c.v1.subscriptions.update(sub.id, {"default_payment_method": declined.id})
    billing.advance(JAN + 3600)
    assert c.v1.subscriptions.retrieve(sub.id).status == "past_due"
    billing.advance(DAY)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "unpaid"
    paid = c.v1.invoices.pay(sub.latest_invoice, {"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert c.v1.subscriptions.retrieve(sub.id).status == "active"


def test_sepa_subscription_stays_incomplete_while_processing_then_becomes_active(
        billing: Billing):
    c = billing.client
    price = billing.price(1999, currency="eur")
    customer = billing.customer("pm_sepaDebit_succeeds")
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert sub.status == "incomplete"
    record = c.v1.invoice_payments.list({"invoice": sub.latest_invoice}).data[0]
    pi = c.v1.payment_intents.retrieve(record.payment.payment_intent)
    assert pi.status == "processing" and record.status == "open"
    billing.advance(DAY)  # past the 23 h expiry: a debit in flight keeps it alive
    assert c.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    billing.advance(4 * DAY)
    assert c.v1.subscriptions.retrieve(sub.id).status == "active"
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "paid" and invoice.status_transitions.paid_at == T0 + 5 * DAY


def test_failed_sepa_debit_after_23_hours_expires_the_subscription(billing: Billing):
    c = billing.client
    price = billing.price(1999, currency="eur")
    customer = billing.customer("pm_sepaDebit_fails")
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    billing.advance(5 * DAY)
    sub = c.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "incomplete_expired"
    assert c.v1.invoices.retrieve(sub.latest_invoice).status == "void"


def test_cancel_at_period_end_and_pause_collection(billing: Billing):
    c = billing.client
    price = billing.price(1000)
    customer = billing.customer()
    ending = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    ending = c.v1.subscriptions.update(ending.id, {"cancel_at_period_end": True})
    assert ending.cancel_at == T0 + JAN
    paused = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    c.v1.subscriptions.update(paused.id, {"pause_collection": {"behavior": "void"}})
    billing.advance(JAN + 3600)
    ending = c.v1.subscriptions.retrieve(ending.id)
    assert ending.status == "canceled" and ending.ended_at == T0 + JAN
    paused = c.v1.subscriptions.retrieve(paused.id)
    assert paused.status == "active"
    assert c.v1.invoices.retrieve(paused.latest_invoice).status == "void"
    canceled = c.v1.subscriptions.cancel(paused.id)
    assert canceled.status == "canceled"
    assert "customer.subscription.deleted" in billing.events()


def test_renewal_events_step_by_step(billing: Billing):
    """Each clock step emits the events Stripe would (funds settling aside)."""
    c = billing.client
    price = billing.price(2500)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    seen = len(billing.events())
    billing.advance(JAN - 3 * DAY)
    assert [t for t in billing.events()[seen:] if t != "balance.available"] == [
        "invoice.upcoming"]
    upcoming = billing.event_objects("invoice.upcoming")[0]
    assert upcoming["amount_due"] == 2500 and upcoming["billing_reason"] == "upcoming"
    seen = len(billing.events())
    billing.advance(3 * DAY)
    assert billing.events()[seen:] == ["customer.subscription.updated", "invoice.created"]
    seen = len(billing.events())
    billing.advance(3600)
    assert billing.events()[seen:] == [
        "invoice.finalized", "payment_intent.created", "charge.succeeded",
        "payment_intent.succeeded", "invoice_payment.paid", "invoice.paid",
        "invoice.payment_succeeded"]
    assert c.v1.subscriptions.retrieve(sub.id).status == "active"


def test_interval_change_restarts_the_period_and_bills_at_once(billing: Billing):
    c = billing.client
    monthly, yearly = billing.price(1000), billing.price(10000, interval="year")
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": monthly.id}]})
    billing.advance(10 * DAY)
    sub = c.v1.subscriptions.update(sub.id, {"items": [
        {"id": sub["items"].data[0].id, "price": yearly.id}]})
    assert sub.billing_cycle_anchor == T0 + 10 * DAY
    assert sub["items"].data[0].current_period_end == T0 + 10 * DAY + 365 * DAY
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert sorted(line.amount for line in invoice.lines.data) == [-677, 10000]


def test_trial_end_now_and_subscription_item_endpoints(billing: Billing):
    c = billing.client
    price, addon = billing.price(3000), billing.price(500, name="Seat")
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                     "trial_period_days": 30})
    sub = c.v1.subscriptions.update(sub.id, {"trial_end": "now"})
    assert sub.status == "active" and sub.trial_end == T0
    billing.advance(3600)
    assert c.v1.invoices.retrieve(sub.latest_invoice).amount_paid == 3000
    seat = c.v1.subscription_items.create({"subscription": sub.id, "price": addon.id,
                                           "quantity": 2, "proration_behavior": "none"})
    assert seat.quantity == 2 and seat.subscription == sub.id
    seat = c.v1.subscription_items.update(seat.id, {"quantity": 4,
                                                    "proration_behavior": "none"})
    assert seat.quantity == 4
    listed = c.v1.subscription_items.list({"subscription": sub.id}).data
    assert sorted(i.price.id for i in listed) == sorted([price.id, addon.id])
    assert c.v1.subscription_items.delete(seat.id).deleted
    assert len(c.v1.subscriptions.retrieve(sub.id)["items"].data) == 1
