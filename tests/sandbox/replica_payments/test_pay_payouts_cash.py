"""Payouts (manual and automatic) and the customer cash balance (bank transfers)."""

from __future__ import annotations

import pytest
import stripe

DAY = 86_400


def test_manual_payout_moves_the_balance_through_its_states(pay):
    pi = pay.pay(10_000, "usd", "pm_card_visa")  # fee 320, net 9680
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.payouts.create(params={"amount": 5000, "currency": "usd"})  # still pending
    assert caught.value.code == "balance_insufficient"
    pay.advance(3 * DAY)
    assert pay.balance("usd") == (9680, 0)
    payout = pay.v1.payouts.create(params={"amount": 5000, "currency": "usd",
                                           "metadata": {"batch": "1"}})
    assert (payout.status, payout.automatic, payout.method) == ("pending", False, "standard")
    assert pay.balance("usd") == (4680, 0)
    txn = pay.v1.balance_transactions.retrieve(payout.balance_transaction)
    assert (txn.type, txn.amount, txn.net, txn.source) == ("payout", -5000, -5000, payout.id)
    own = pay.v1.balance_transactions.list(params={"payout": payout.id}).data
    assert [t.id for t in own] == [txn.id]  # a manual payout cannot say what it contains
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.payouts.create(params={"amount": 4681, "currency": "usd"})
    assert caught.value.code == "balance_insufficient"

    pay.advance(3600)
    assert pay.v1.payouts.retrieve(payout.id).status == "in_transit"
    pay.advance(3 * DAY)
    paid = pay.v1.payouts.retrieve(payout.id)
    assert paid.status == "paid" and paid.arrival_date <= pay.replica.admin.now()
    assert pay.event_types(payout.id) == ["payout.created", "payout.updated", "payout.updated",
                                          "payout.paid"]
    assert pay.v1.payouts.list(params={"status": "paid"}).data[0].id == payout.id
    assert pi.id


def test_payout_cancel_gives_the_money_back(pay):
    pay.pay(10_000, "usd", "pm_card_visa")
    pay.advance(3 * DAY)
    payout = pay.v1.payouts.create(params={"amount": 1000, "currency": "usd"})
    canceled = pay.v1.payouts.cancel(payout.id)
    assert canceled.status == "canceled" and pay.balance("usd") == (9680, 0)
    assert pay.events("payout.canceled")[-1].id == payout.id


def test_automatic_payout_equals_the_sum_of_its_transactions(pay):
    a = pay.pay(10_000, "usd", "pm_card_visa")
    b = pay.pay(2_500, "usd", "pm_card_mastercard")
    pay.v1.refunds.create(params={"payment_intent": b.id, "amount": 500})
    pay.advance(3 * DAY)
    avail, _ = pay.balance("usd")
    payout = pay.helper("/_replica/test_helpers/payouts/automatic", currency="usd")
    # b's fee: 2.9 % of 25.00 = 72.5 -> 73, + 30 = 103; net 2397.
    assert payout.automatic is True and payout.amount == avail == 9680 + 2397 - 500
    covered = pay.v1.balance_transactions.list(params={"payout": payout.id, "limit": 100}).data
    swept = [t for t in covered if t.type != "payout"]
    assert sorted(t.source for t in swept if t.type == "charge") == sorted(
        [a.latest_charge, b.latest_charge])
    assert sum(t.net for t in swept) == payout.amount
    assert [t.amount for t in covered if t.type == "payout"] == [-payout.amount]
    charges_only = pay.v1.balance_transactions.list(params={"payout": payout.id,
                                                            "type": "charge"}).data
    assert len(charges_only) == 2
    assert pay.balance("usd") == (0, 0)
    pay.advance(3 * DAY)
    assert pay.v1.payouts.retrieve(payout.id).reconciliation_status == "completed"
    assert pay.events("payout.reconciliation_completed")[-1].id == payout.id
    with pytest.raises(stripe.InvalidRequestError):  # nothing left to sweep
        pay.helper("/_replica/test_helpers/payouts/automatic", currency="usd")


def _fund(pay, customer: str, amount: int, reference: str | None = None):
    params = {"amount": amount, "currency": "eur"}
    if reference:
        params["reference"] = reference
    return pay.v1.test_helpers.customers.fund_cash_balance(customer, params=params)


def test_bank_transfer_partial_then_over_funding(pay):
    customer = pay.v1.customers.create(params={"name": "Acme GmbH"})
    pi = pay.v1.payment_intents.create(params={
        "amount": 5000, "currency": "eur", "customer": customer.id,
        "payment_method_types": ["customer_balance"], "payment_method_data": {
            "type": "customer_balance"}, "confirm": True,
        "payment_method_options": {"customer_balance": {
            "funding_type": "bank_transfer", "bank_transfer": {"type": "eu_bank_transfer"}}}})
    assert pi.status == "requires_action"
    instructions = pi.next_action.display_bank_transfer_instructions
    assert instructions.amount_remaining == 5000 and instructions.type == "eu_bank_transfer"
    assert instructions.financial_addresses[0].type == "iban"

    funded = _fund(pay, customer.id, 2000)
    assert (funded.type, funded.net_amount, funded.ending_balance) == ("funded", 2000, 2000)
    pi = pay.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_action"
    assert pi.next_action.display_bank_transfer_instructions.amount_remaining == 3000
    assert pay.events("payment_intent.partially_funded")[-1].id == pi.id
    balance = pay.v1.customers.cash_balance.retrieve(customer.id)
    assert balance.available.to_dict() in ({"eur": 0}, {})

    _fund(pay, customer.id, 4000, reference=instructions.reference)
    pi = pay.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded" and pi.amount_received == 5000
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.type == "customer_balance"
    assert pay.txn_of(charge.id).fee == 40  # 0.8 % of 50.00
    balance = pay.v1.customers.cash_balance.retrieve(customer.id)
    assert balance.available["eur"] == 1000  # the overpayment stays unapplied
    txns = pay.v1.customers.cash_balance_transactions.list(customer.id).data
    assert [(t.type, t.net_amount, t.ending_balance) for t in reversed(txns)] == [
        ("funded", 2000, 2000), ("applied_to_payment", -2000, 0), ("funded", 4000, 4000),
        ("applied_to_payment", -3000, 1000)]
    assert txns[0].applied_to_payment.payment_intent == pi.id
    one = pay.v1.customers.cash_balance_transactions.retrieve(customer.id, txns[-1].id)
    assert one.funded.bank_transfer.type == "eu_bank_transfer"
    assert len(pay.events("customer_cash_balance_transaction.created")) == 4
    assert pay.events("cash_balance.funds_available")[-1].available["eur"] == 1000

    # The leftover pays the next intent at once.
    small = pay.v1.payment_intents.create(params={
        "amount": 800, "currency": "eur", "customer": customer.id, "confirm": True,
        "payment_method_types": ["customer_balance"], "payment_method": "pm_customerBalance"})
    assert small.status == "succeeded"
    assert pay.v1.customers.cash_balance.retrieve(customer.id).available["eur"] == 200


def test_cash_balance_manual_reconciliation_and_cancel_release(pay):
    customer = pay.v1.customers.create()
    pay.v1.customers.cash_balance.update(customer.id, params={
        "settings": {"reconciliation_mode": "manual"}})
    pi = pay.v1.payment_intents.create(params={
        "amount": 1000, "currency": "eur", "customer": customer.id, "confirm": True,
        "payment_method_types": ["customer_balance"], "payment_method": "pm_customerBalance"})
    _fund(pay, customer.id, 600)
    assert pay.v1.payment_intents.retrieve(pi.id).status == "requires_action"  # manual mode
    assert pay.v1.customers.cash_balance.retrieve(customer.id).available["eur"] == 600
    pay.v1.customers.cash_balance.update(customer.id, params={
        "settings": {"reconciliation_mode": "automatic"}})
    _fund(pay, customer.id, 100)
    assert pay.v1.customers.cash_balance.retrieve(customer.id).available["eur"] == 0
    canceled = pay.v1.payment_intents.cancel(pi.id)
    assert canceled.status == "canceled"
    assert pay.v1.customers.cash_balance.retrieve(customer.id).available["eur"] == 700
