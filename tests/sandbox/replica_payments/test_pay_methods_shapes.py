"""PaymentMethod endpoints, the `collect` contract of the billing modules, and the shape of
every payments object against Stripe's published examples (fixtures3.json)."""

from __future__ import annotations

import pytest
import stripe

from sandbox.replica.app import build_registry
from sandbox.replica.config import ReplicaConfig
from sandbox.replica.resources import invoices, payment_intents
from sandbox.replica.templates import template
from sandbox.replica.testing import running_replica

DAY = 86_400


def test_payment_methods_create_attach_detach_and_list(pay):
    customer = pay.v1.customers.create(params={"email": "pm@example.com"})
    by_token = pay.v1.payment_methods.create(params={"type": "card",
                                                     "card": {"token": "tok_mastercard"}})
    assert by_token.card.brand == "mastercard" and by_token.card.last4 == "4444"
    by_number = pay.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4000000000000002", "exp_month": 4, "exp_year": 2031, "cvc": "123"}})
    assert by_number.card.last4 == "0002" and by_number.card.exp_month == 4
    ach = pay.v1.payment_methods.create(params={"type": "us_bank_account", "us_bank_account": {
        "routing_number": "110000000", "account_number": "000123456789",
        "account_holder_type": "company"}, "billing_details": {"name": "Acme"}})
    assert ach.us_bank_account.last4 == "6789" and ach.billing_details.name == "Acme"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        pay.v1.payment_methods.create(params={"type": "sepa_debit"})
    assert caught.value.param == "sepa_debit[iban]"

    attached = pay.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert attached.id.startswith("pm_") and attached.id != "pm_card_visa"
    assert attached.customer == customer.id
    pay.v1.payment_methods.attach(by_token.id, params={"customer": customer.id})
    pay.v1.payment_methods.attach(ach.id, params={"customer": customer.id})
    listed = pay.v1.customers.payment_methods.list(customer.id, params={"type": "card"}).data
    assert {p.id for p in listed} == {attached.id, by_token.id}
    same = pay.v1.payment_methods.list(params={"customer": customer.id,
                                               "type": "us_bank_account"}).data
    assert [p.id for p in same] == [ach.id]
    assert pay.v1.customers.payment_methods.retrieve(customer.id, ach.id).id == ach.id
    other = pay.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError):
        pay.v1.payment_methods.attach(ach.id, params={"customer": other.id})

    detached = pay.v1.payment_methods.detach(by_token.id)
    assert detached.customer is None
    assert [e.id for e in pay.events("payment_method.attached")] == [attached.id, by_token.id,
                                                                     ach.id]
    assert [e.id for e in pay.events("payment_method.detached")] == [by_token.id]
    updated = pay.v1.payment_methods.update(attached.id, params={"metadata": {"k": "v"}})
    assert updated.metadata["k"] == "v" and pay.events("payment_method.updated")

    # A saved card pays off-session for its customer; setup_future_usage saves another.
    pi = pay.pay(1200, "usd", attached.id, customer=customer.id, off_session=True)
    assert pi.status == "succeeded"
    saved = pay.pay(1200, "usd", "pm_card_amex", customer=customer.id,
                    setup_future_usage="off_session")
    assert pay.v1.payment_methods.retrieve(saved.payment_method).customer == customer.id
    with pytest.raises(stripe.InvalidRequestError):  # belongs to another customer
        pay.pay(1200, "usd", attached.id, customer=other.id)


@pytest.fixture
def collected(tmp_path, monkeypatch):
    """A replica with a route calling `collect` the way the billing modules do, and a
    recorder in place of ``invoices.payment_outcome``."""
    outcomes: list[tuple[str, str, str]] = []

    def record(ctx, pi):
        outcomes.append((pi["id"], pi["status"], pi["_invoice"]))

    monkeypatch.setattr(invoices, "payment_outcome", record)

    def collect_route(ctx, params):
        return payment_intents.collect(
            ctx, amount=int(params["amount"]), currency=params["currency"],
            customer=params.get("customer"), payment_method=params.get("payment_method"),
            invoice=params.get("invoice"), off_session=params.get("off_session") != "false")

    registry = build_registry()
    registry.route("POST", "/_test/collect", collect_route)
    config = ReplicaConfig(db_path=tmp_path / "c.sqlite", clock_start=1_767_225_600,
                           clock_frozen=True)
    with running_replica(config.db_path, config=config, registry=registry) as replica:
        client = replica.client()

        def call(**params):
            answer = client.raw_request("post", "/_test/collect", **params)
            return client.deserialize(answer, api_mode="V1")

        yield replica, client, call, outcomes


def test_collect_contract(collected):
    replica, client, call, outcomes = collected
    customer = client.v1.customers.create()
    ok = call(amount=1000, currency="usd", customer=customer.id, payment_method="pm_card_visa",
              invoice="in_test1")
    assert ok.status == "succeeded" and "_invoice" not in ok.to_dict()
    assert outcomes == [(ok.id, "succeeded", "in_test1")]

    declined = call(amount=1000, currency="usd", customer=customer.id,
                    payment_method="pm_card_chargeDeclined", invoice="in_test2")
    assert declined.status == "requires_payment_method"
    assert declined.last_payment_error.decline_code == "generic_decline"
    assert outcomes[-1] == (declined.id, "requires_payment_method", "in_test2")

    action = call(amount=1000, currency="usd", customer=customer.id,
                  payment_method="pm_card_authenticationRequired", invoice="in_test3")
    assert action.status == "requires_action" and len(outcomes) == 2

    none = call(amount=1000, currency="usd", customer=customer.id, invoice="in_test4")
    assert none.status == "requires_payment_method"
    assert none.last_payment_error.code == "payment_method_missing"

    sepa = call(amount=1000, currency="eur", customer=customer.id,
                payment_method="pm_sepaDebit_fails", invoice="in_test5")
    assert sepa.status == "processing" and outcomes[-1][2] == "in_test4"
    replica.admin.advance_clock(5 * DAY)
    assert outcomes[-1] == (sepa.id, "requires_payment_method", "in_test5")

    wrong = call(amount=1000, currency="usd", customer=customer.id,
                 payment_method="pm_sepaDebit_succeeds", invoice="in_test6")
    assert wrong.status == "requires_payment_method"
    assert wrong.last_payment_error.code == "payment_intent_invalid_parameter"
    plain = call(amount=500, currency="usd", payment_method="pm_card_visa")
    assert plain.status == "succeeded" and outcomes[-1][2] == "in_test6"


def _same_shape(kind: str, obj: dict, *, missing_ok: frozenset[str] = frozenset()) -> None:
    example = template(kind)
    assert set(obj) == set(example) - missing_ok, (kind, set(obj) ^ set(example))
    for key, value in obj.items():
        expected = example[key]
        if value is None or expected is None:
            continue
        assert isinstance(value, type(expected)) or (
            isinstance(value, int) and isinstance(expected, int)), (kind, key, value)


def test_objects_match_stripe_examples(pay):
    customer = pay.v1.customers.create()
    pi = pay.pay(1000, "usd", "pm_card_createDispute", customer=customer.id)
    pay.advance(DAY)
    refundable = pay.pay(10_000, "usd", "pm_card_visa")
    refund = pay.v1.refunds.create(params={"payment_intent": refundable.id, "amount": 100})
    pay.advance(3 * DAY)
    payout = pay.v1.payouts.create(params={"amount": 100, "currency": "usd"})
    funded = pay.v1.test_helpers.customers.fund_cash_balance(
        customer.id, params={"amount": 500, "currency": "eur"})
    session = pay.v1.checkout.sessions.create(params={"mode": "payment", "line_items": [
        {"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "A"}},
         "quantity": 1}]})

    shapes = {
        "payment_intent": pay.v1.payment_intents.retrieve(pi.id),
        "payment_method": pay.v1.payment_methods.retrieve(pi.payment_method),
        "charge": pay.v1.charges.retrieve(pi.latest_charge),
        "balance": pay.v1.balance.retrieve(),
        "balance_transaction": pay.txn_of(pi.latest_charge),
        "refund": pay.v1.refunds.retrieve(refund.id),
        "dispute": pay.v1.disputes.list().data[0],
        "payout": pay.v1.payouts.retrieve(payout.id),
        "cash_balance": pay.v1.customers.cash_balance.retrieve(customer.id),
        "customer_cash_balance_transaction": funded,
        "checkout.session": pay.v1.checkout.sessions.retrieve(session.id),
        "item": pay.v1.checkout.sessions.line_items.list(session.id).data[0],
    }
    for kind, obj in shapes.items():
        _same_shape(kind, obj.to_dict())
    assert shapes["charge"].to_dict()["disputed"] is True
    for obj in (shapes["charge"], shapes["payment_intent"], shapes["balance_transaction"]):
        assert not [k for k in obj.to_dict() if k.startswith("_")]
