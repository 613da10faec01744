"""Checkout Sessions: payment mode completed by card and by async methods, expiry, and
subscription mode through the billing modules."""

from __future__ import annotations

import pytest
import stripe

DAY = 86_400
COMPLETE = "/_replica/test_helpers/checkout/sessions/{}/complete"


def _session(pay, *types: str, currency: str = "eur", **extra) -> stripe.checkout.Session:
    return pay.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/ok",
        "payment_method_types": list(types) or ["card"],
        "line_items": [{"price_data": {"currency": currency, "unit_amount": 1500,
                                       "product_data": {"name": "Mug"}}, "quantity": 2}],
        **extra})


def test_card_checkout_completes_paid(pay):
    product = pay.v1.products.create(params={"name": "Poster"})
    price = pay.v1.prices.create(params={"product": product.id, "unit_amount": 700,
                                         "currency": "eur"})
    session = _session(pay, "card", metadata={"order": "42"})
    assert (session.status, session.payment_status, session.amount_total) == ("open", "unpaid",
                                                                              3000)
    assert session.payment_intent is None and session.url.endswith(session.id)
    items = pay.v1.checkout.sessions.line_items.list(session.id).data
    assert [(i.quantity, i.amount_total, i.description) for i in items] == [(2, 3000, "Mug")]

    done = pay.helper(COMPLETE.format(session.id), payment_method="pm_card_visa",
                      email="buyer@example.com")
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.customer_details.email == "buyer@example.com"
    pi = pay.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.status, pi.amount, pi.currency) == ("succeeded", 3000, "eur")
    assert pay.events("checkout.session.completed")[-1].id == session.id
    assert pay.v1.checkout.sessions.list(params={"payment_intent": pi.id}).data[0].id == \
        session.id
    with pytest.raises(stripe.InvalidRequestError):
        pay.v1.checkout.sessions.expire(session.id)

    by_price = pay.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 3}],
        "customer_creation": "always"})
    done = pay.helper(COMPLETE.format(by_price.id), email="x@example.com")
    assert done.amount_total == 2100 and done.customer.startswith("cus_")


def test_declined_card_leaves_the_session_open(pay):
    session = _session(pay, "card")
    with pytest.raises(stripe.CardError):
        pay.helper(COMPLETE.format(session.id), payment_method="pm_card_chargeDeclined")
    assert pay.v1.checkout.sessions.retrieve(session.id).status == "open"
    with pytest.raises(stripe.InvalidRequestError):  # not an accepted method
        pay.helper(COMPLETE.format(session.id), payment_method="pm_sepaDebit_succeeds")


@pytest.mark.parametrize(("pm", "event", "status"), [
    ("pm_sepaDebit_succeeds", "checkout.session.async_payment_succeeded", "paid"),
    ("pm_sepaDebit_fails", "checkout.session.async_payment_failed", "unpaid"),
])
def test_async_checkout_completes_unpaid_then_settles(pay, pm, event, status):
    session = _session(pay, "card", "sepa_debit")
    done = pay.helper(COMPLETE.format(session.id), payment_method=pm)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    assert pay.v1.payment_intents.retrieve(done.payment_intent).status == "processing"
    assert pay.v1.events.list(params={"type": event}).data == []
    pay.advance(5 * DAY)
    assert pay.events(event)[-1].id == session.id
    assert pay.v1.checkout.sessions.retrieve(session.id).payment_status == status


def test_voucher_checkout_expiry_fails_the_async_payment(pay):
    session = _session(pay, "oxxo", currency="mxn",
                       payment_method_options={"oxxo": {"expires_after_days": 1}})
    done = pay.helper(COMPLETE.format(session.id), payment_method="pm_oxxo")
    assert done.payment_status == "unpaid"
    pay.advance(3 * DAY)
    assert pay.events("checkout.session.async_payment_failed")[-1].id == session.id


def test_sessions_expire_by_request_and_after_24_hours(pay):
    first, second = _session(pay), _session(pay)
    expired = pay.v1.checkout.sessions.expire(first.id)
    assert expired.status == "expired"
    pay.advance(DAY)
    assert pay.v1.checkout.sessions.retrieve(second.id).status == "expired"
    assert [s.id for s in pay.events("checkout.session.expired")] == [first.id, second.id]
    with pytest.raises(stripe.InvalidRequestError):
        pay.helper(COMPLETE.format(second.id))


def test_subscription_mode_goes_through_the_billing_modules(pay):
    price = pay.v1.prices.create(params={"unit_amount": 900, "currency": "usd",
                                         "recurring": {"interval": "month"},
                                         "product_data": {"name": "Plan"}})
    session = pay.v1.checkout.sessions.create(params={
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://shop.test/ok"})
    done = pay.helper(COMPLETE.format(session.id), payment_method="pm_card_visa",
                      email="sub@example.com")
    assert done.status == "complete" and done.subscription.startswith("sub_")
    assert done.customer.startswith("cus_") and done.payment_status == "paid"
