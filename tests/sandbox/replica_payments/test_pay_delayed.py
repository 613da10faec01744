"""Bank debits settle days later; vouchers wait for the customer or expire — all on the
replica clock."""

from __future__ import annotations

import pytest
import stripe

DAY = 86_400


@pytest.mark.parametrize(("pm", "kind", "currency", "days", "fee"), [
    ("pm_sepaDebit_succeeds", "sepa_debit", "eur", 5, 35),
    ("pm_usBankAccount_succeeds", "us_bank_account", "usd", 4, 40),
])
def test_bank_debit_processes_then_succeeds(pay, pm, kind, currency, days, fee):
    pi = pay.pay(5000, currency, pm, type=kind)
    assert pi.status == "processing"
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid, charge.balance_transaction) == ("pending", False, None)
    assert charge.payment_method_details.type == kind
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.processing"]
    assert pay.event_types(charge.id) == ["charge.pending"]

    pay.advance(days * DAY - 60)
    assert pay.v1.payment_intents.retrieve(pi.id).status == "processing"
    pay.advance(60)
    pi = pay.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded" and pi.amount_received == 5000
    txn = pay.txn_of(pi.latest_charge)
    assert (txn.amount, txn.fee, txn.net) == (5000, fee, 5000 - fee)
    assert pay.event_types(charge.id) == ["charge.pending", "charge.succeeded"]
    succeeded = pay.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
    assert succeeded.created - pi.created == days * DAY


@pytest.mark.parametrize(("pm", "kind", "currency", "days", "code"), [
    ("pm_sepaDebit_fails", "sepa_debit", "eur", 5, "insufficient_funds"),
    ("pm_usBankAccount_fails", "us_bank_account", "usd", 4, "account_closed"),
])
def test_bank_debit_fails_days_later(pay, pm, kind, currency, days, code):
    pi = pay.pay(5000, currency, pm, type=kind)
    assert pi.status == "processing"
    pay.advance(days * DAY)
    pi = pay.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method" and pi.last_payment_error.code == code
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.failure_code) == ("failed", code)
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.processing",
                                      "payment_intent.payment_failed"]
    assert pay.event_types(charge.id) == ["charge.pending", "charge.failed"]
    assert pay.balance(currency) == (0, 0)


def test_sepa_debit_from_iban(pay):
    pm = pay.v1.payment_methods.create(params={
        "type": "sepa_debit", "sepa_debit": {"iban": "DE62370400440532013001"},
        "billing_details": {"name": "Jenny Rosen", "email": "jenny@example.com"}})
    assert pm.sepa_debit.last4 == "3001" and pm.sepa_debit.country == "DE"
    pi = pay.pay(900, "eur", pm.id, type="sepa_debit")
    pay.advance(5 * DAY)
    assert pay.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


def test_voucher_expires_then_can_be_canceled(pay):
    pi = pay.pay(20000, "mxn", "pm_oxxo", type="oxxo",
                 payment_method_options={"oxxo": {"expires_after_days": 2}})
    assert pi.status == "requires_action" and pi.next_action.type == "oxxo_display_details"
    expires = pi.next_action.oxxo_display_details.expires_after
    # Created 2025-12-31 18:00 in Mexico City (UTC-6): expires 2026-01-02 23:59:59 there.
    assert expires == 1_767_225_600 + 2 * DAY + 6 * 3600 - 1
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.requires_action"]

    pay.advance(expires - pay.replica.admin.now())
    assert pay.v1.payment_intents.retrieve(pi.id).status == "requires_action"
    pay.advance(1)
    pi = pay.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method" and pi.latest_charge is None
    assert pi.last_payment_error.code == "payment_intent_payment_attempt_expired"
    assert pay.event_types(pi.id)[-1] == "payment_intent.payment_failed"
    with pytest.raises(stripe.InvalidRequestError):
        pay.helper(f"/_replica/test_helpers/payment_intents/{pi.id}/pay_voucher")
    assert pay.v1.payment_intents.cancel(pi.id).status == "canceled"
    assert pay.v1.charges.list().data == []


def test_voucher_paid_by_the_customer(pay):
    pi = pay.pay(3000, "jpy", "pm_konbini", type="konbini")
    assert pi.next_action.type == "konbini_display_details"
    assert pi.next_action.konbini_display_details.stores.familymart.confirmation_number
    pay.advance(2 * DAY)
    paid = pay.helper(f"/_replica/test_helpers/payment_intents/{pi.id}/pay_voucher")
    assert paid.status == "succeeded" and paid.amount_received == 3000
    txn = pay.txn_of(paid.latest_charge)
    assert (txn.amount, txn.fee) == (3000, 108)  # 3.6 % of ¥3000
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.requires_action",
                                      "payment_intent.succeeded"]
    pay.advance(5 * DAY)  # the expiry check finds it paid and does nothing
    assert pay.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_voucher_test_emails_decide_quickly(pay):
    def boleto(email: str) -> stripe.PaymentIntent:
        pm = pay.v1.payment_methods.create(params={
            "type": "boleto", "boleto": {"tax_id": "000.000.000-00"},
            "billing_details": {"name": "Jo", "email": email}})
        return pay.pay(5000, "brl", pm.id, type="boleto")

    paying = boleto("succeed_immediately@example.com")
    expiring = boleto("expire_immediately@example.com")
    assert paying.next_action.boleto_display_details.number
    pay.advance(60)
    assert pay.v1.payment_intents.retrieve(expiring.id).status == "requires_payment_method"
    pay.advance(120)
    assert pay.v1.payment_intents.retrieve(paying.id).status == "succeeded"
