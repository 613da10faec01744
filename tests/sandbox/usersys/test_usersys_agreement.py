"""Acceptance: with no bugs the company DB agrees with Stripe on every object, compared field
by field through mapping.yaml, whatever the delivery order and however often events repeat;
and the entitlements are exactly what the policy derives from Stripe's final state."""

from __future__ import annotations

import random

import pytest

from sandbox.usersys.agreement import compare_with_stripe, load_mapping, stripe_value
from sandbox.usersys.models import Account, Entitlement

from .stripe_world import DAY, Db, Obj, StripeWorld

ACCT = "acct_merchant0001"


def build(world: StripeWorld) -> tuple[list[Obj], dict[str, Obj], set[tuple[str, str]]]:
    """Events of a small company's month and the entitlements the policy expects."""
    ev = world.event
    events: list[Obj] = []
    expected: set[tuple[str, str]] = set()
    ada, bob, cyd = (world.customer(f"{n}@example.com") for n in ("ada", "bob", "cyd"))
    events += [ev("customer.created", c) for c in (ada, bob, cyd)]

    # Ada: subscription signup, paid first invoice, renewal, seat change, past_due and back.
    sub = world.subscription(ada, status="incomplete", plan="pro", quantity=3)
    events.append(ev("customer.subscription.created", sub))
    inv = world.invoice(ada, sub=sub, amount=6000, billing_reason="subscription_create")
    events.append(ev("invoice.created", inv))
    inv = world.change(inv, status="open", number="ADA-0001")
    events.append(ev("invoice.finalized", inv))
    charge = world.charge(world.payment_intent(ada, amount=6000))
    pi = world.change(world.latest[charge["payment_intent"]], latest_charge=charge["id"])
    events += [ev("payment_intent.succeeded", pi), ev("charge.succeeded", charge),
               ev("invoice_payment.paid", world.invoice_payment(inv, pi)),
               ev("invoice.paid", world.paid(inv)),
               ev("customer.subscription.updated", world.change(sub, status="active"))]
    world.clock += 10 * DAY
    sub = world.with_item(world.latest[sub["id"]], quantity=5)
    events.append(ev("customer.subscription.updated", sub))
    world.clock += 20 * DAY
    events.append(ev("customer.subscription.updated", world.change(sub, status="past_due")))
    world.clock += 3 * DAY
    events.append(ev("customer.subscription.updated", world.change(sub, status="active")))
    expected.add((sub["id"], "pro"))

    # Bob: a trial that is cancelled, a refunded card purchase, a SEPA purchase, a dispute.
    trial = world.subscription(bob, status="trialing", plan="team")
    events.append(ev("customer.subscription.created", trial))
    world.clock += DAY
    events.append(ev("customer.subscription.deleted", world.change(
        trial, status="canceled", canceled_at=world.clock,
        cancellation_details={"comment": None, "feedback": None,
                              "reason": "cancellation_requested"})))
    card = world.payment_intent(bob, amount=4900)
    card_charge = world.charge(card)
    card = world.change(card, latest_charge=card_charge["id"])
    bought = world.checkout_session(bob, card, feature="report_pack")
    events += [ev("payment_intent.succeeded", card), ev("checkout.session.completed", bought)]
    world.clock += DAY
    refund = world.refund(card_charge, status="succeeded")
    events += [ev("refund.created", refund), ev("charge.refunded", world.change(
        card_charge, amount_refunded=4900, refunded=True,
        refunds={"object": "list", "data": [refund], "has_more": False, "url": ""}))]
    sepa = world.payment_intent(bob, amount=9900, status="processing", methods=("sepa_debit",),
                                currency="eur")
    sepa_session = world.checkout_session(bob, sepa, feature="seats_pack", payment_status="unpaid",
                                          methods=("sepa_debit",))
    events += [ev("payment_intent.processing", sepa), ev("checkout.session.completed",
                                                         sepa_session)]
    world.clock += 5 * DAY
    sepa_charge = world.charge(sepa)
    events += [ev("payment_intent.succeeded", world.change(
        sepa, status="succeeded", amount_received=9900, latest_charge=sepa_charge["id"])),
        ev("checkout.session.async_payment_succeeded",
           world.change(sepa_session, payment_status="paid"))]
    expected.add((sepa_session["id"], "seats_pack"))
    yen = world.payment_intent(bob, amount=12_000, currency="jpy", feature="api_credits")
    yen_charge = world.charge(yen)
    yen = world.change(yen, latest_charge=yen_charge["id"])
    events.append(ev("payment_intent.succeeded", yen))
    world.clock += DAY
    dispute = world.dispute(yen_charge, status="needs_response")
    events.append(ev("charge.dispute.created", dispute))
    world.clock += 10 * DAY
    events.append(ev("charge.dispute.closed", world.change(dispute, status="lost")))

    # Cyd: boleto order that expires, a bank transfer, a refund that fails, then deletion.
    boleto = world.payment_intent(cyd, amount=15_000, currency="brl", status="requires_action",
                                  methods=("boleto",))
    voucher = world.checkout_session(cyd, boleto, feature="api_credits", payment_status="unpaid",
                                     methods=("boleto",))
    events.append(ev("checkout.session.completed", voucher))
    world.clock += 4 * DAY
    events += [ev("checkout.session.async_payment_failed", voucher),
               ev("payment_intent.canceled", world.change(boleto, status="canceled"))]
    bill = world.invoice(cyd, amount=50_000, currency="eur", status="open", number="CYD-0001",
                         collection_method="send_invoice", billing_reason="manual")
    events += [ev("invoice.finalized", bill), ev("customer_cash_balance_transaction.created",
                                                 world.cash_funded(cyd, amount=20_000))]
    bhd = world.payment_intent(cyd, amount=12_340, currency="bhd", feature="onboarding")
    bhd_charge = world.charge(bhd)
    bhd = world.change(bhd, latest_charge=bhd_charge["id"])
    failing = world.refund(bhd_charge, amount=2_340, status="pending")
    events += [ev("payment_intent.succeeded", bhd), ev("refund.created", failing)]
    world.clock += 7 * DAY
    events.append(ev("refund.failed", world.change(failing, status="failed",
                                                  failure_reason="expired_or_canceled_card")))
    expected.add((bhd["id"], "onboarding"))
    world.clock += DAY
    gone = world.customer("dee@example.com")
    events += [ev("customer.created", gone)]
    world.clock += DAY
    events.append(ev("customer.deleted", gone))
    world.latest[gone["id"]] = {"id": gone["id"], "object": "customer", "deleted": True}

    # A connected account's own customer and subscription: mirrored, never entitled.
    merchant_buyer = world.customer("buyer@merchant.example")
    msub = world.subscription(merchant_buyer, plan="merchant_plan")
    events += [ev("customer.created", merchant_buyer, account=ACCT),
               ev("customer.subscription.created", msub, account=ACCT)]
    return events, world.latest, expected


def deliver(db: Db, events: list[Obj], *, seed: int, bugs: frozenset[str] = frozenset()) -> None:
    rng = random.Random(seed)
    stream = events + rng.sample(events, len(events) // 4)  # a quarter delivered twice
    rng.shuffle(stream)
    for event in stream:
        outcome = db.apply(event, bugs=bugs)
        assert outcome.status != "failed", outcome


def diffs(db: Db, latest: dict[str, Obj]) -> list:
    with db.session() as session:
        return compare_with_stripe(session, latest.values(), resolve=latest.get)


def active_entitlements(db: Db) -> set[tuple[str, str]]:
    return {(e.source_id, e.feature) for e in db.rows(Entitlement, active=True)}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_correct_handler_agrees_with_stripe_in_any_order(db: Db, world: StripeWorld,
                                                         seed: int) -> None:
    events, latest, expected = build(world)
    deliver(db, events, seed=seed)
    assert diffs(db, latest) == []
    assert active_entitlements(db) == expected
    assert db.one(Account, stripe_customer_id=world.latest[msub_customer(latest)]["customer"]
                  ).connect_account_id == ACCT


def msub_customer(latest: dict[str, Obj]) -> str:
    return next(k for k, v in latest.items()
                if v.get("object") == "subscription" and stripe_value(
                    v, "items.data[0].price.lookup_key") == "merchant_plan")


def test_every_mapped_stripe_type_was_compared(world: StripeWorld) -> None:
    _, latest, _ = build(world)
    mirrored = {e.stripe_object for e in load_mapping().entities.values()
                if e.key and e.stripe_object not in ("event", "billing.meter_event")}
    assert mirrored <= {o.get("object") for o in latest.values()}


@pytest.mark.parametrize(("bug", "entity"), [
    ("FM-02", None), ("FM-11", "payment"), ("FM-12", "refund"), ("FM-24", "refund"),
    ("FM-32", "dispute"), ("FM-33", "subscription"), ("FM-14", "order"), ("FM-22", None),
])
def test_bugs_show_up_as_differences(db: Db, world: StripeWorld, bug: str,
                                     entity: str | None) -> None:
    events, latest, expected = build(world)
    deliver(db, events, seed=3, bugs=frozenset({bug}))
    found = diffs(db, latest)
    if entity is not None:
        assert any(d.entity == entity for d in found), found
    assert found or active_entitlements(db) != expected
