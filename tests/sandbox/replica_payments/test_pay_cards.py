"""Card PaymentIntents on the replica: success with exact fees, declines, 3-D Secure,
manual capture, cancel — through the official SDK over HTTP."""

from __future__ import annotations

import pytest
import stripe

from sandbox.replica.resources import fees

DAY = 86_400


def test_card_success_books_charge_and_fee(pay):
    pi = pay.pay(1000, "usd", "pm_card_visa", description="Order 1")
    assert pi.status == "succeeded" and pi.amount_received == 1000
    assert pi.payment_method.startswith("pm_") and pi.payment_method != "pm_card_visa"
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.paid, charge.captured, charge.status) == (True, True, "succeeded")
    assert charge.payment_intent == pi.id and charge.refunded is False
    assert charge.payment_method_details.type == "card"
    assert charge.payment_method_details.card.last4 == "4242"
    txn = pay.txn_of(charge.id)
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.source) == (1000, 59, 941, "charge",
                                                                    charge.id)
    assert txn.fee_details[0].type == "stripe_fee" and txn.fee_details[0].amount == 59
    assert txn.status == "pending" and pay.balance("usd") == (0, 941)
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.succeeded"]
    assert pay.event_types(charge.id) == ["charge.succeeded"]
    assert [c.id for c in pay.v1.charges.list(params={"payment_intent": pi.id}).data] == [
        charge.id]
    expanded = pay.v1.payment_intents.retrieve(pi.id, params={
        "expand": ["latest_charge.balance_transaction"]})
    assert expanded.latest_charge.balance_transaction.fee == 59
    pay.v1.charges.update(charge.id, params={"description": "Order 1 (gift)"})
    assert pay.event_types(charge.id) == ["charge.succeeded", "charge.updated"]

    pay.advance(3 * DAY)
    assert pay.v1.balance_transactions.retrieve(txn.id).status == "available"
    assert pay.balance("usd") == (941, 0)
    assert pay.events("balance.available")[-1].available[0].amount == 941


@pytest.mark.parametrize(("amount", "currency", "fee"), [
    (1000, "jpy", 29),      # 2.9 % of ¥1000; the 0.30 fixed part rounds to ¥0
    (1234, "jpy", 36),      # 35.786 -> 36, integer half-up
    (10000, "bhd", 590),    # 2.9 % of 10.000 BD = 290 fils + 0.300 BD = 300 fils
    (1050, "eur", 60),      # 30.45 -> 30, + 30
])
def test_card_fee_uses_the_currency_exponent(pay, amount, currency, fee):
    pi = pay.pay(amount, currency, "pm_card_mastercard")
    txn = pay.txn_of(pi.latest_charge)
    assert (txn.currency, txn.amount, txn.fee, txn.net) == (currency, amount, fee, amount - fee)


def test_fee_rounding_is_integer_half_up():
    assert fees.div_half_up(5, 10) == 1 and fees.div_half_up(4, 10) == 0
    assert fees.div_half_up(-15, 10) == -2
    assert fees.processing_fee(1725, "usd", "card") == 80  # 50.025 -> 50, + 30
    assert fees.processing_fee(100_000, "usd", "us_bank_account") == 500  # capped at 5.00
    assert fees.processing_fee(100_000, "jpy", "customer_balance") == 5  # cap 5.00 -> ¥5
    assert fees.processing_fee(5000, "eur", "sepa_debit") == 35
    assert fees.processing_fee(10_000, "mxn", "oxxo") == 360
    assert fees.dispute_fee("bhd") == 15_000 and fees.dispute_fee("jpy") == 15


@pytest.mark.parametrize(("pm", "code", "decline"), [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
])
def test_declined_card_answers_402_and_keeps_the_failed_charge(pay, pm, code, decline):
    with pytest.raises(stripe.CardError) as caught:
        pay.pay(2000, "usd", pm)
    err = caught.value
    assert err.code == code and err.http_status == 402
    assert err.error.decline_code == decline
    pi = pay.v1.payment_intents.retrieve(err.error.payment_intent["id"])
    assert pi.status == "requires_payment_method" and pi.payment_method is None
    assert pi.last_payment_error.code == code and pi.last_payment_error.decline_code == decline
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, code)
    assert charge.balance_transaction is None and charge.outcome.type == "issuer_declined"
    assert pay.event_types(pi.id) == ["payment_intent.created", "payment_intent.payment_failed"]
    assert pay.event_types(charge.id) == ["charge.failed"]
    assert pay.balance("usd") == (0, 0)


def test_authentication_required_on_and_off_session(pay):
    pi = pay.pay(1500, "usd", "pm_card_authenticationRequired")
    assert pi.status == "requires_action" and pi.next_action.type == "use_stripe_sdk"
    assert pi.latest_charge is None
    assert pay.event_types(pi.id)[-1] == "payment_intent.requires_action"
    done = pay.helper(f"/_replica/test_helpers/payment_intents/{pi.id}/authenticate",
                      outcome="succeed")
    assert done.status == "succeeded" and done.latest_charge

    with pytest.raises(stripe.CardError) as caught:
        pay.pay(1500, "usd", "pm_card_authenticationRequired", off_session=True)
    assert caught.value.code == "authentication_required"

    failing = pay.pay(1500, "usd", "pm_card_authenticationRequired")
    failed = pay.helper(f"/_replica/test_helpers/payment_intents/{failing.id}/authenticate",
                        outcome="fail")
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"


def test_confirm_flow_manual_capture_and_cancel(pay):
    pi = pay.v1.payment_intents.create(params={"amount": 1000, "currency": "usd",
                                               "capture_method": "manual"})
    assert pi.status == "requires_payment_method" and "card" in pi.payment_method_types
    pi = pay.v1.payment_intents.update(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "requires_confirmation"
    pi = pay.v1.payment_intents.confirm(pi.id)
    assert pi.status == "requires_capture" and pi.amount_capturable == 1000
    assert pay.events("payment_intent.amount_capturable_updated")[-1].id == pi.id
    assert pay.v1.charges.retrieve(pi.latest_charge).balance_transaction is None
    pi = pay.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 600})
    assert (pi.status, pi.amount_received, pi.amount_capturable) == ("succeeded", 600, 0)
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_captured, charge.amount_refunded) == (600, 400)
    assert pay.txn_of(charge.id).amount == 600
    assert pay.events("charge.captured")[-1].id == charge.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.payment_intents.cancel(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"

    other = pay.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    canceled = pay.v1.payment_intents.cancel(other.id, params={
        "cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled" and canceled.canceled_at
    assert pay.event_types(other.id) == ["payment_intent.created", "payment_intent.canceled"]


def test_create_validates_amount_currency_and_method(pay):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.payment_intents.create(params={"amount": 10, "currency": "usd"})
    assert caught.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.pay(1000, "usd", "pm_sepaDebit_succeeds", type="sepa_debit")
    assert caught.value.code == "payment_intent_invalid_parameter"
    with pytest.raises(stripe.InvalidRequestError):
        pay.pay(1000, "usd", "pm_sepaDebit_succeeds")  # card only
    assert pay.v1.payment_intents.list().data == []  # refused creates left nothing behind
