"""Refunds (full, partial, over-refund, failing later) and disputes arriving later."""

from __future__ import annotations

import pytest
import stripe

DAY = 86_400


def test_partial_then_full_refund_and_over_refund_errors(pay):
    pi = pay.pay(1000, "usd", "pm_card_visa")
    refund = pay.v1.refunds.create(params={"payment_intent": pi.id, "amount": 300,
                                           "reason": "requested_by_customer",
                                           "metadata": {"ticket": "T-1"}})
    assert (refund.status, refund.amount, refund.charge) == ("succeeded", 300, pi.latest_charge)
    assert refund.metadata["ticket"] == "T-1"
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (300, False)
    assert charge.refunds.data[0].id == refund.id
    txn = pay.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (txn.type, txn.amount, txn.fee, txn.net, txn.source) == ("refund", -300, 0, -300,
                                                                    refund.id)
    assert pay.balance("usd") == (-300, 941)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.refunds.create(params={"charge": charge.id, "amount": 800})
    assert caught.value.code == "amount_too_large" and "(7.00 USD)" in caught.value.user_message
    rest = pay.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 700
    charge = pay.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert caught.value.code == "charge_already_refunded"
    assert [r.id for r in pay.v1.refunds.list(params={"charge": charge.id}).data] == [
        rest.id, refund.id]
    assert [r.id for r in pay.events("refund.created")] == [refund.id, rest.id]
    assert len(pay.events("charge.refunded")) == 2
    assert pay.balance("usd") == (-1000, 941)


def test_refund_of_a_failed_or_missing_payment_is_refused(pay):
    with pytest.raises(stripe.InvalidRequestError):
        pay.v1.refunds.create(params={"amount": 100})
    pi = pay.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.refunds.create(params={"payment_intent": pi.id})
    assert caught.value.code == "charge_not_refundable"


def test_refund_fails_later_and_the_balance_is_restored(pay):
    pi = pay.pay(2000, "usd", "pm_card_refundFail")
    pay.advance(3 * DAY)
    before = pay.balance("usd")
    refund = pay.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    assert pay.balance("usd")[0] == before[0] - 2000

    pay.advance(DAY)
    refund = pay.v1.refunds.retrieve(refund.id)
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    back = pay.v1.balance_transactions.retrieve(refund.failure_balance_transaction)
    assert (back.type, back.amount, back.net, back.source) == ("refund_failure", 2000, 2000,
                                                               refund.id)
    assert pay.balance("usd") == before
    charge = pay.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert charge.refunds.data[0].status == "failed"
    assert pay.event_types(refund.id) == ["refund.created", "refund.updated", "refund.failed",
                                          "charge.refund.updated"]
    updated = pay.v1.events.list(params={"type": "refund.updated"}).data[0]
    assert updated.data.previous_attributes["status"] == "succeeded"
    types = pay.v1.balance_transactions.list(params={"source": refund.id}).data
    assert sorted(t.type for t in types) == ["refund", "refund_failure"]


def test_dispute_arrives_later_and_is_won(pay):
    pi = pay.pay(1000, "usd", "pm_card_createDispute")
    charge_id = pi.latest_charge
    assert pay.v1.charges.retrieve(charge_id).disputed is False
    assert pay.v1.disputes.list().data == []
    pay.advance(DAY)
    dispute = pay.v1.disputes.list(params={"charge": charge_id}).data[0]
    assert (dispute.status, dispute.amount, dispute.reason) == ("needs_response", 1000,
                                                                "fraudulent")
    assert pay.v1.charges.retrieve(charge_id).disputed is True
    withdrawal = dispute.balance_transactions[0]
    assert (withdrawal.type, withdrawal.reporting_category) == ("adjustment", "dispute")
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-1000, 1500, -2500)
    assert pay.event_types(dispute.id) == ["charge.dispute.created",
                                           "charge.dispute.funds_withdrawn"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.refunds.create(params={"charge": charge_id})
    assert caught.value.code == "charge_disputed"

    dispute = pay.v1.disputes.update(dispute.id, params={
        "evidence": {"uncategorized_text": "Signed delivery receipt", "customer_name": "Jo"}})
    assert dispute.status == "under_review" and dispute.evidence_details.submission_count == 1
    won = pay.helper(f"/_replica/test_helpers/disputes/{dispute.id}/resolve", status="won")
    assert won.status == "won" and len(won.balance_transactions) == 2
    assert won.balance_transactions[1].amount == 1000
    assert pay.event_types(dispute.id)[-3:] == ["charge.dispute.updated",
                                                "charge.dispute.funds_reinstated",
                                                "charge.dispute.closed"]
    with pytest.raises(stripe.InvalidRequestError):
        pay.v1.disputes.close(dispute.id)


def test_dispute_closed_is_lost_and_evidence_convention(pay):
    first = pay.pay(1000, "usd", "pm_card_createDispute")
    second = pay.pay(1000, "usd", "pm_card_createDispute")
    pay.advance(DAY)
    lost = pay.v1.disputes.list(params={"payment_intent": first.id}).data[0]
    closed = pay.v1.disputes.close(lost.id)
    assert closed.status == "lost" and pay.events("charge.dispute.closed")[-1].id == lost.id
    other = pay.v1.disputes.list(params={"payment_intent": second.id}).data[0]
    pay.v1.disputes.update(other.id, params={"evidence": {"uncategorized_text":
                                                          "winning_evidence"}})
    pay.advance(DAY)
    assert pay.v1.disputes.retrieve(other.id).status == "won"
