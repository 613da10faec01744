"""Each handler-layer bug switch: the wrong behaviour it introduces, absent without it.

Every test runs the same events through the correct handler and through the handler with one
switch on, and checks the difference plus the switch's entry in ``outcome.bug_hits``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sandbox.bugs import SWITCHES
from sandbox.usersys.models import (
    Account,
    Dispute,
    Entitlement,
    Invoice,
    Order,
    Payment,
    Refund,
    Subscription,
)

from .stripe_world import DAY, Db, Obj, StripeWorld

Pair = Callable[[], tuple[Db, Db]]


def run(pair: Pair, events: list[Obj], bug: str, **kw: object) -> tuple[Db, Db, set[str]]:
    good, bad = pair()
    good_outcomes = good.apply_all(events, **kw)
    bad_outcomes = bad.apply_all(events, bugs={bug}, **kw)
    assert not any(h for o in good_outcomes for h in o.bug_hits)
    return good, bad, {h.bug for o in bad_outcomes for h in o.bug_hits}


def active(db: Db, source_id: str) -> int:
    return db.count(Entitlement, source_id=source_id, active=True)


def test_fm02_older_snapshot_overwrites_newer(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    sub = world.subscription(customer, status="active")
    e1 = world.event("customer.subscription.created", sub)
    world.clock += DAY
    e2 = world.event("customer.subscription.updated", world.change(sub, status="past_due"))
    world.clock += DAY
    e3 = world.event("customer.subscription.updated", world.change(sub, status="active"))
    inv = world.invoice(customer, status="open")
    e4 = world.event("invoice.finalized", inv)
    world.clock += 60
    e5 = world.event("invoice.paid", world.paid(inv))
    good, bad, hits = run(pair, [e1, e3, e2, e5, e4], "FM-02")
    assert good.one(Subscription).status == "active"
    assert bad.one(Subscription).status == "past_due"
    assert good.one(Invoice).status == "paid"
    assert bad.one(Invoice).status == "open"
    assert hits == {"FM-02"}


def test_fm03_redelivery_fulfils_twice(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer)
    session = world.checkout_session(customer, pi, feature="api_credits")
    completed = world.event("checkout.session.completed", session)
    direct = world.payment_intent(customer, feature="onboarding")
    succeeded = world.event("payment_intent.succeeded", direct)
    good, bad, hits = run(pair, [completed, completed, succeeded, succeeded], "FM-03")
    assert active(good, session["id"]) == 1 and active(good, direct["id"]) == 1
    assert active(bad, session["id"]) == 2 and active(bad, direct["id"]) == 2
    assert hits == {"FM-03"}


def test_fm06_invoice_created_fails(pair: Pair, world: StripeWorld) -> None:
    invoice = world.invoice(world.customer())
    good, bad, hits = run(pair, [world.event("invoice.created", invoice)], "FM-06")
    assert good.count(Invoice) == 1
    assert bad.count(Invoice) == 0
    assert bad.apply(world.event("invoice.created", invoice), bugs={"FM-06"}).status == "failed"
    assert hits == {"FM-06"}


def test_fm10_access_on_incomplete_signup(pair: Pair, world: StripeWorld) -> None:
    sub = world.subscription(world.customer(), status="incomplete")
    created = world.event("customer.subscription.created", sub)
    world.clock += 23 * 3600
    expired = world.event("customer.subscription.updated",
                          world.change(sub, status="incomplete_expired"))
    good, bad, hits = run(pair, [created, expired], "FM-10")
    assert active(good, sub["id"]) == 0
    assert active(bad, sub["id"]) == 1
    assert hits == {"FM-10"}


def test_fm11_jpy_amounts_divided_by_100(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, amount=1000, currency="jpy")
    usd = world.payment_intent(customer, amount=1000, currency="usd")
    invoice = world.invoice(customer, amount=5000, currency="jpy", status="open")
    events = [world.event("payment_intent.succeeded", pi),
              world.event("payment_intent.succeeded", usd),
              world.event("invoice.finalized", invoice)]
    good, bad, hits = run(pair, events, "FM-11")
    assert good.one(Payment, currency="jpy").amount == 1000
    assert bad.one(Payment, currency="jpy").amount == 10
    assert bad.one(Payment, currency="usd").amount == 1000
    assert (good.one(Invoice).total, bad.one(Invoice).total) == (5000, 50)
    assert hits == {"FM-11"}


def test_fm12_three_decimal_amounts_lose_a_digit(pair: Pair, world: StripeWorld) -> None:
    pi = world.payment_intent(world.customer(), amount=1505, currency="bhd")
    good, bad, hits = run(pair, [world.event("payment_intent.succeeded", pi)], "FM-12")
    assert (good.one(Payment).amount, bad.one(Payment).amount) == (1505, 150)
    assert hits == {"FM-12"}


def test_fm13_fulfilled_while_processing_never_revoked(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, status="processing", methods=("sepa_debit",),
                              feature="annual_report", processing={"type": "sepa_debit"})
    processing = world.event("payment_intent.processing", pi)
    world.clock += 7 * DAY
    failed = world.event("payment_intent.payment_failed", world.change(
        pi, status="requires_payment_method",
        last_payment_error={"code": "insufficient_funds", "type": "card_error"}))
    # The same through Checkout: completed while unpaid, then the debit fails.
    cpi = world.payment_intent(customer, status="processing", methods=("sepa_debit",))
    session = world.checkout_session(customer, cpi, feature="seats_pack", payment_status="unpaid",
                                     methods=("sepa_debit",))
    completed = world.event("checkout.session.completed", session)
    world.clock += 7 * DAY
    async_failed = world.event("checkout.session.async_payment_failed", session)
    good, bad, hits = run(pair, [processing, completed, failed, async_failed], "FM-13")
    assert good.count(Entitlement) == 0
    assert active(bad, pi["id"]) == 1 and active(bad, session["id"]) == 1
    assert good.one(Payment).status == bad.one(Payment).status == "requires_payment_method"
    assert hits == {"FM-13"}


def test_fm14_async_checkout_payment_never_applied(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, status="processing", methods=("us_bank_account",))
    session = world.checkout_session(customer, pi, feature="api_credits", payment_status="unpaid",
                                     methods=("us_bank_account",))
    completed = world.event("checkout.session.completed", session)
    world.clock += 4 * DAY
    succeeded = world.event("checkout.session.async_payment_succeeded",
                            world.change(session, payment_status="paid"))
    good, bad, hits = run(pair, [completed, succeeded], "FM-14")
    assert good.one(Order).status == "paid" and active(good, session["id"]) == 1
    assert bad.one(Order).status == "awaiting_payment" and active(bad, session["id"]) == 0
    assert hits == {"FM-14"}


def test_fm15_invoice_paid_without_charge_fails(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    invoice = world.invoice(customer, amount=0, status="open")
    finalized = world.event("invoice.finalized", invoice)
    world.clock += 60
    paid = world.event("invoice.paid", world.paid(invoice))  # covered by the credit balance
    charged = world.invoice(customer, amount=2000, status="open")
    charged_paid = world.event("invoice.paid", world.paid(charged))
    good, bad, hits = run(pair, [finalized, paid, charged_paid], "FM-15")
    assert good.one(Invoice, stripe_invoice_id=invoice["id"]).status == "paid"
    assert bad.one(Invoice, stripe_invoice_id=invoice["id"]).status == "open"
    assert bad.one(Invoice, stripe_invoice_id=charged["id"]).status == "paid"
    assert hits == {"FM-15"}


def test_fm16_any_bank_transfer_marks_the_invoice_paid(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    invoice = world.invoice(customer, amount=10_000, currency="eur", status="open",
                            collection_method="send_invoice")
    funded = world.cash_funded(customer, amount=5_000, currency="eur")
    events = [world.event("invoice.finalized", invoice),
              world.event("customer_cash_balance_transaction.created", funded)]
    good, bad, hits = run(pair, events, "FM-16")
    assert good.one(Invoice).status == "open" and good.one(Invoice).amount_remaining == 10_000
    assert bad.one(Invoice).status == "paid" and bad.one(Invoice).amount_remaining == 0
    assert hits == {"FM-16"}


def test_fm17_voucher_expiry_ignored(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, status="requires_action", methods=("oxxo",),
                              currency="mxn", amount=50_000)
    session = world.checkout_session(customer, pi, feature="api_credits", payment_status="unpaid",
                                     methods=("oxxo",))
    konbini = world.payment_intent(customer, status="requires_action", methods=("konbini",),
                                   currency="jpy", amount=3000)
    events = [world.event("checkout.session.completed", session),
              world.event("payment_intent.requires_action", konbini)]
    world.clock += 4 * DAY
    events += [world.event("checkout.session.async_payment_failed", session),
               world.event("payment_intent.canceled", world.change(konbini, status="canceled"))]
    good, bad, hits = run(pair, events, "FM-17")
    assert good.one(Order).status == "payment_failed"
    assert bad.one(Order).status == "awaiting_payment"
    assert good.one(Payment, stripe_payment_intent_id=konbini["id"]).status == "canceled"
    assert bad.one(Payment, stripe_payment_intent_id=konbini["id"]).status == "requires_action"
    assert hits == {"FM-17"}


def test_fm19_dunning_end_states_keep_access(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    unpaid = world.subscription(customer, plan="team")
    canceled = world.subscription(customer, plan="pro")
    voluntary = world.subscription(customer, plan="basic")
    events = [world.event("customer.subscription.created", s)
              for s in (unpaid, canceled, voluntary)]
    world.clock += 20 * DAY
    events += [
        world.event("customer.subscription.updated", world.change(unpaid, status="unpaid")),
        world.event("customer.subscription.deleted", world.change(
            canceled, status="canceled", cancellation_details={"reason": "payment_failed"})),
        world.event("customer.subscription.deleted", world.change(
            voluntary, status="canceled",
            cancellation_details={"reason": "cancellation_requested"})),
    ]
    good, bad, hits = run(pair, events, "FM-19")
    assert good.count(Entitlement, active=True) == 0
    assert active(bad, unpaid["id"]) == 1 and active(bad, canceled["id"]) == 1
    assert active(bad, voluntary["id"]) == 0
    assert bad.one(Subscription, stripe_subscription_id=unpaid["id"]).status == "unpaid"
    assert hits == {"FM-19"}


def test_fm22_connect_events_land_on_the_platform(pair: Pair, world: StripeWorld) -> None:
    acct = "acct_merchant0001"
    buyer = world.customer("buyer@merchant.example")
    pi = world.payment_intent(buyer)
    session = world.checkout_session(buyer, pi, feature="premium_listing")
    events = [world.event("customer.created", buyer, account=acct),
              world.event("checkout.session.completed", session, account=acct),
              world.event("payment_intent.succeeded", pi, account=acct)]
    good, bad, hits = run(pair, events, "FM-22")
    assert good.one(Account).connect_account_id == acct
    assert good.one(Payment).connect_account_id == acct
    assert good.count(Entitlement) == 0
    assert bad.one(Account).connect_account_id is None
    assert bad.one(Order).connect_account_id is None
    assert active(bad, session["id"]) == 1
    assert hits == {"FM-22"}


def test_fm24_failed_refund_stays_succeeded(pair: Pair, world: StripeWorld) -> None:
    pi = world.payment_intent(world.customer())
    charge = world.charge(pi)
    refund = world.refund(charge, status="pending")
    events = [world.event("payment_intent.succeeded", pi), world.event("refund.created", refund)]
    world.clock += DAY
    events.append(world.event("refund.updated", world.change(refund, status="succeeded")))
    world.clock += 10 * DAY
    events.append(world.event("refund.failed", world.change(
        refund, status="failed", failure_reason="expired_or_canceled_card")))
    good, bad, hits = run(pair, events, "FM-24")
    assert good.one(Refund).status == "failed"
    assert good.one(Refund).failure_reason == "expired_or_canceled_card"
    assert bad.one(Refund).status == "pending"
    assert hits == {"FM-24"}


def test_fm32_disputes_ignored(pair: Pair, world: StripeWorld) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, feature="api_credits")
    charge = world.charge(pi)
    dispute = world.dispute(charge)
    events = [world.event("payment_intent.succeeded", pi),
              world.event("charge.dispute.created", dispute)]
    good, bad, hits = run(pair, events, "FM-32")
    assert good.one(Dispute).status == "needs_response" and active(good, pi["id"]) == 0
    assert bad.count(Dispute) == 0 and active(bad, pi["id"]) == 1
    assert hits == {"FM-32"}


def test_fm33_portal_changes_not_synced(pair: Pair, world: StripeWorld) -> None:
    sub = world.subscription(world.customer(), plan="pro", quantity=3)
    created = world.event("customer.subscription.created", sub)
    world.clock += DAY
    changed = world.with_item(world.change(sub, cancel_at_period_end=True), quantity=7,
                              plan="team")
    updated = world.event("customer.subscription.updated", changed)
    good, bad, hits = run(pair, [created, updated], "FM-33")
    g, b = good.one(Subscription), bad.one(Subscription)
    assert (g.seats, g.plan, g.cancel_at_period_end) == (7, "team", True)
    assert (b.seats, b.plan, b.cancel_at_period_end) == (3, "pro", False)
    assert good.one(Entitlement, active=True).feature == "team"
    assert hits == {"FM-33"}


def test_fm34_paused_subscription_keeps_access(pair: Pair, world: StripeWorld) -> None:
    sub = world.subscription(world.customer(), status="trialing")
    created = world.event("customer.subscription.created", sub)
    world.clock += 14 * DAY
    paused = world.change(sub, status="paused")
    events = [created, world.event("customer.subscription.updated", paused),
              world.event("customer.subscription.paused", paused)]
    good, bad, hits = run(pair, events, "FM-34")
    assert good.one(Subscription).status == "paused" and active(good, sub["id"]) == 0
    assert active(bad, sub["id"]) == 1
    assert hits == {"FM-34"}


def test_fm08_wrong_mode_events_applied(pair: Pair, world: StripeWorld) -> None:
    event = world.event("customer.created", world.customer(), livemode=False)
    good, bad, hits = run(pair, [event], "FM-08", expected_livemode=True)
    assert good.count(Account) == 0
    assert bad.count(Account) == 1
    assert hits == {"FM-08"}


def test_every_handler_switch_has_a_test_here() -> None:
    """FM-01 lives at the HTTP layer (test_usersys_app.py); the rest must be tested here."""
    names = set(re.findall(r"def test_fm(\d\d)_", Path(__file__).read_text()))
    app_tests = Path(__file__).with_name("test_usersys_app.py").read_text()
    names |= set(re.findall(r"def test_fm(\d\d)_", app_tests))
    handler = {s.id[3:] for s in SWITCHES.values() if s.layer == "handler"}
    assert handler <= names
