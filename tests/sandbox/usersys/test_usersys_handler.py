"""The correct handler (no bugs): idempotency, ordering, entitlements, amounts, Connect."""

from __future__ import annotations

import pytest

from sandbox.usersys.models import (
    Account,
    BankTransfer,
    Dispute,
    Entitlement,
    Invoice,
    Payment,
    ProcessedWebhook,
    Refund,
    Subscription,
)

from .stripe_world import DAY, Db, StripeWorld


def test_duplicate_event_is_a_noop(db: Db, world: StripeWorld) -> None:
    event = world.event("customer.created", world.customer())
    assert db.apply(event).status == "applied"
    again = db.apply(event)
    assert again.status == "duplicate" and not again.effects
    assert db.count(Account) == 1 and db.count(ProcessedWebhook) == 1


def test_same_second_snapshots_ordered_by_status(db: Db, world: StripeWorld) -> None:
    sub = world.subscription(world.customer(), status="incomplete")
    created = world.event("customer.subscription.created", sub)
    activated = world.event("customer.subscription.updated", world.change(sub, status="active"))
    assert created["created"] == activated["created"]
    db.apply_all([activated, created])
    assert db.one(Subscription).status == "active"
    assert db.count(Entitlement, active=True) == 1


def test_invoice_lifecycle_out_of_order(db: Db, world: StripeWorld) -> None:
    customer = world.customer()
    sub = world.subscription(customer)
    draft = world.invoice(customer, sub=sub)
    e_created = world.event("invoice.created", draft)
    world.clock += 3600
    opened = world.change(draft, status="open", number="ABC-0001")
    e_final = world.event("invoice.finalized", opened)
    world.clock += 5
    e_paid = world.event("invoice.paid", world.paid(opened))
    outcomes = db.apply_all([e_paid, e_created, e_final])
    assert [o.status for o in outcomes] == ["applied", "stale", "stale"]
    row = db.one(Invoice)
    assert (row.status, row.number, row.amount_paid, row.amount_remaining) == (
        "paid", "ABC-0001", 2000, 0)
    assert row.stripe_subscription_id == sub["id"]
    assert row.paid_at is not None


def test_customer_stub_then_details_and_deletion_is_terminal(db: Db, world: StripeWorld) -> None:
    customer = world.customer("zoe@example.com")
    sub = world.subscription(customer)
    db.apply(world.event("customer.subscription.created", sub))
    stub = db.one(Account)
    assert stub.stripe_customer_id == customer["id"] and stub.email is None
    created = world.event("customer.created", customer)
    world.clock += DAY
    deleted = world.event("customer.deleted", customer)
    db.apply_all([deleted, created])
    account = db.one(Account)
    assert account.deleted_at is not None and account.email == "zoe@example.com"
    assert db.one(Subscription).account_id == account.id


def test_subscription_access_follows_status_and_plan(db: Db, world: StripeWorld) -> None:
    sub = world.subscription(world.customer(), status="trialing", plan="pro")
    db.apply(world.event("customer.subscription.created", sub))
    assert [e.feature for e in db.rows(Entitlement, active=True)] == ["pro"]
    for status, entitled in (("active", True), ("past_due", True), ("unpaid", False),
                             ("active", True), ("paused", False), ("active", True)):
        world.clock += DAY
        db.apply(world.event("customer.subscription.updated", world.change(sub, status=status)))
        assert (db.count(Entitlement, active=True) == 1) is entitled, status
    world.clock += DAY
    db.apply(world.event("customer.subscription.updated", world.with_item(sub, plan="team")))
    assert [e.feature for e in db.rows(Entitlement, active=True)] == ["team"]
    assert db.one(Entitlement, feature="pro", active=False, revoke_reason="plan_changed")
    world.clock += DAY
    db.apply(world.event("customer.subscription.deleted", world.change(sub, status="canceled")))
    assert db.count(Entitlement, active=True) == 0


def test_one_off_purchase_granted_on_success_revoked_on_full_refund(db: Db, world: StripeWorld
                                                                    ) -> None:
    customer = world.customer()
    pi = world.payment_intent(customer, amount=5000, feature="api_credits")
    charge = world.charge(pi)
    db.apply(world.event("payment_intent.succeeded", world.change(pi, latest_charge=charge["id"])))
    assert db.count(Entitlement, source_id=pi["id"], active=True) == 1
    partial = world.refund(charge, amount=1000)
    world.clock += DAY
    db.apply(world.event("charge.refunded", world.change(
        charge, amount_refunded=1000,
        refunds={"object": "list", "data": [partial], "has_more": False, "url": ""})))
    assert db.count(Entitlement, source_id=pi["id"], active=True) == 1
    assert db.one(Payment).amount_refunded == 1000
    rest = world.refund(charge, amount=4000)
    world.clock += DAY
    db.apply(world.event("refund.created", rest))
    assert db.count(Entitlement, source_id=pi["id"], active=True) == 0
    assert db.count(Refund) == 2


def test_refund_failure_is_recorded(db: Db, world: StripeWorld) -> None:
    pi = world.payment_intent(world.customer())
    refund = world.refund(world.charge(pi))
    db.apply_all([world.event("payment_intent.succeeded", pi),
                  world.event("charge.refund.updated", refund)])
    world.clock += 5 * DAY
    db.apply(world.event("refund.failed", world.change(refund, status="failed",
                                                       failure_reason="lost_or_stolen_card")))
    assert (db.one(Refund).status, db.one(Refund).failure_reason) == ("failed",
                                                                      "lost_or_stolen_card")


@pytest.mark.parametrize(("status", "revoked"), [
    ("warning_needs_response", False), ("needs_response", True), ("lost", True),
])
def test_disputes_revoke_unless_inquiry(db: Db, world: StripeWorld, status: str,
                                        revoked: bool) -> None:
    pi = world.payment_intent(world.customer(), feature="api_credits")
    charge = world.charge(pi)
    db.apply(world.event("payment_intent.succeeded", pi))
    db.apply(world.event("charge.dispute.created", world.dispute(charge, status=status)))
    assert db.one(Dispute).payment_id == db.one(Payment).id
    assert db.count(Entitlement, active=True) == (0 if revoked else 1)


def test_processing_debit_is_not_fulfilled_until_it_succeeds(db: Db, world: StripeWorld) -> None:
    pi = world.payment_intent(world.customer(), status="processing", methods=("sepa_debit",),
                              feature="api_credits")
    db.apply(world.event("payment_intent.processing", pi))
    assert db.count(Entitlement) == 0
    world.clock += 6 * DAY
    db.apply(world.event("payment_intent.succeeded", world.change(pi, status="succeeded",
                                                                  amount_received=2000)))
    assert db.count(Entitlement, active=True) == 1


def test_invoice_payment_links_payment_and_invoice(db: Db, world: StripeWorld) -> None:
    customer = world.customer()
    invoice = world.invoice(customer, status="open")
    pi = world.payment_intent(customer)
    link = world.invoice_payment(invoice, pi)
    db.apply_all([world.event("invoice_payment.paid", link),
                  world.event("payment_intent.succeeded", pi),
                  world.event("invoice.paid", world.paid(invoice))])
    payment, row = db.one(Payment), db.one(Invoice)
    assert payment.invoice_id == row.id and payment.status == "succeeded"
    assert payment.account_id == row.account_id


def test_amounts_are_stored_exactly(db: Db, world: StripeWorld) -> None:
    customer = world.customer()
    for amount, currency in ((1000, "jpy"), (1505, "bhd"), (1999, "usd"), (250_000, "krw")):
        db.apply(world.event("payment_intent.succeeded",
                             world.payment_intent(customer, amount=amount, currency=currency)))
    stored = {p.currency: p.amount for p in db.rows(Payment)}
    assert stored == {"jpy": 1000, "bhd": 1505, "usd": 1999, "krw": 250_000}


def test_connect_objects_keep_their_account_and_grant_nothing(db: Db, world: StripeWorld) -> None:
    acct = "acct_merchant0001"
    buyer = world.customer()
    sub = world.subscription(buyer)
    db.apply_all([world.event("customer.created", buyer, account=acct),
                  world.event("customer.subscription.created", sub, account=acct)])
    assert db.one(Subscription).connect_account_id == acct
    assert db.one(ProcessedWebhook, type="customer.subscription.created"
                  ).connect_account_id == acct
    assert db.count(Entitlement) == 0


def test_bank_transfer_recorded_without_touching_the_invoice(db: Db, world: StripeWorld) -> None:
    customer = world.customer()
    invoice = world.invoice(customer, amount=10_000, currency="eur", status="open")
    db.apply_all([world.event("invoice.finalized", invoice),
                  world.event("customer_cash_balance_transaction.created",
                              world.cash_funded(customer, amount=10_000))])
    transfer = db.one(BankTransfer)
    assert (transfer.type, transfer.net_amount, transfer.applied_invoice_id) == (
        "funded", 10_000, None)
    assert db.one(Invoice).status == "open"


def test_older_api_version_shape_is_read_and_fm05_leaves_links_empty(
        db: Db, world: StripeWorld) -> None:
    """The correct handler reads an old-version invoice's top-level subscription; FM-05
    (written for 2025-03-31+ paths only) leaves the link empty."""
    customer = world.customer()
    sub = world.subscription(customer)
    legacy = world.invoice(customer, parent=None, subscription=sub["id"])
    db.apply(world.event("invoice.created", legacy))
    assert db.one(Invoice).stripe_subscription_id == sub["id"]
    other = world.invoice(customer, parent=None, subscription=sub["id"])
    outcome = db.apply(world.event("invoice.created", other), bugs=frozenset({"FM-05"}))
    assert [h.bug for h in outcome.bug_hits] == ["FM-05"]
    assert {i.stripe_subscription_id for i in db.rows(Invoice)} == {sub["id"], None}


def test_wrong_mode_and_unknown_events_are_logged_not_applied(db: Db, world: StripeWorld) -> None:
    live = world.event("customer.created", world.customer(), livemode=True)
    assert db.apply(live, expected_livemode=False).status == "ignored"
    other = world.event("payout.paid", {"id": "po_1", "object": "payout"})
    assert db.apply(other).status == "ignored"
    assert db.count(Account) == 0
    assert {p.outcome for p in db.rows(ProcessedWebhook)} == {"ignored"}


@pytest.mark.postgres
def test_schema_and_handler_on_postgres(pg_url: str, world: StripeWorld) -> None:
    pg = Db(pg_url)
    try:
        customer = world.customer()
        pi = world.payment_intent(customer)  # Checkout's intent: the feature is on the session
        session = world.checkout_session(customer, pi, feature="api_credits")
        events = [world.event("customer.created", customer),
                  world.event("checkout.session.completed", session),
                  world.event("payment_intent.succeeded", pi)]
        for event in events + events[::-1]:
            pg.apply(event)
        assert pg.count(Entitlement, active=True) == 1
        assert pg.count(ProcessedWebhook) == 3
    finally:
        pg.engine.dispose()


@pytest.mark.postgres
def test_signup_twin_on_a_connect_account_is_not_linked_on_postgres(
        pg_url: str, world: StripeWorld) -> None:
    """The "user already has a customer" lookup compares the account scope with IS NOT
    DISTINCT FROM: `IS :scope` was a syntax error on PostgreSQL for Connect events."""
    pg = Db(pg_url)
    try:
        first = world.customer(metadata={"user_id": "u-7"})
        twin = world.customer(metadata={"user_id": "u-7"})
        on_platform = world.customer(metadata={"user_id": "u-7"})
        assert pg.apply(world.event("customer.created", first, account="acct_1")).status \
            == "applied"
        outcome = pg.apply(world.event("customer.created", twin, account="acct_1"))
        assert outcome.status == "ignored" and first["id"] in outcome.detail
        # another scope (the platform) is another user space: linked
        assert pg.apply(world.event("customer.created", on_platform)).status == "applied"
        assert {(a.stripe_customer_id, a.connect_account_id) for a in pg.rows(Account)} == {
            (first["id"], "acct_1"), (on_platform["id"], None)}
    finally:
        pg.engine.dispose()
