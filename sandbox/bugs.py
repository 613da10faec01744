"""Bug switches of the sandbox world, named after failure modes in failure-modes.md.

Each switch makes the sample company get one thing wrong the way real teams do. Layers:

    handler   the webhook handler app / `apply_event` behaves differently (sandbox/usersys)
    account   the Stripe account (replica) is set up or driven differently (world generator)
    history   the company's DB or delivery history is shaped differently (world generator)

Several switches can be on at once. Product code never reads this module: the world
generator records what each switch did in a ground-truth manifest kept apart from the DB.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.errors import ConfigError

Layer = Literal["handler", "account", "history"]


class BugSwitch(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    slug: str
    title: str
    description: str
    layer: Layer
    expected_classes: tuple[str, ...] = ()  # reconciliation classes it should surface as


def _b(
    id: str, slug: str, title: str, layer: Layer, classes: tuple[str, ...], description: str
) -> BugSwitch:
    return BugSwitch(
        id=id, slug=slug, title=title, layer=layer, expected_classes=classes,
        description=" ".join(description.split()),
    )


_SWITCHES = (
    _b("FM-01", "webhook-signature-on-parsed-body", "Signature checked on re-serialised JSON",
       "handler", ("WEBHOOK_GAP", "MISSING_LOCAL", "STALE_STATE", "UNAPPLIED_PAYMENT"), """
       The webhook app parses the body and verifies the signature over json.dumps(parsed)
       instead of the raw bytes: every real delivery fails with HTTP 400, nothing is written,
       and Stripe keeps retrying. The DB stays empty: every object is missing or stale locally,
       succeeded payments are money not applied."""),
    _b("FM-02", "out-of-order-events", "Snapshots written blindly in arrival order",
       "handler", ("STATE_REGRESSION",), """
       The handler keeps no watermark: an older snapshot delivered late (retry, reordering)
       overwrites newer state, terminal states included (paid invoice back to open, canceled
       subscription back to active)."""),
    _b("FM-03", "non-idempotent-handler-duplicate-delivery", "Event ids logged but never checked",
       "handler", ("DUPLICATE_LOCAL_EFFECT",), """
       processed_webhooks is written but never consulted and fulfilment always inserts: a
       redelivered fulfilment event (payment_intent.succeeded of a direct purchase,
       checkout.session.completed / async_payment_succeeded; in the world one fulfilment answer
       in three arrives after the timeout, so Stripe resends it) adds a second active
       entitlement row for the same payment."""),
    _b("FM-04", "webhook-gap-beyond-retry-window", "Endpoint down longer than the retry window",
       "history", ("WEBHOOK_GAP", "MISSING_LOCAL", "STALE_STATE", "UNAPPLIED_PAYMENT"), """
       The generator picks a window [t1, t2] (longer than the replica's retry schedule) and
       never applies events created inside it (no processed_webhooks rows, replica deliveries
       recorded as failed); objects created or changed in the window are missing or stale
       locally (a payment that succeeded in the window is money not applied). Manifest: t1, t2
       and the dropped event ids."""),
    _b("FM-05", "endpoint-api-version-mismatch", "Endpoint pinned to an older API version",
       "account", ("ENV_MISMATCH", "STALE_STATE"), """
       The handler's webhook endpoint is created with api_version 2024-06-20 and the replica
       renders its events in that shape (invoice.subscription / charge / payment_intent at top
       level, subscription current_period_* at top level instead of on items.data[]); the
       handler, written for 2026-10-28.endive, stores NULL invoice-to-subscription links and
       NULL period dates for those events. Manifest: endpoint id and affected object ids."""),
    _b("FM-06", "invoice-created-non-2xx-delays-finalization", "invoice.created answered with 500",
       "handler", ("WEBHOOK_GAP", "MISSING_LOCAL"), """
       The handler raises on every invoice.created (HTTP 500, nothing written), so Stripe holds
       automatic drafts 72 h instead of one hour before finalising (the world sets the replica's
       invoice_created_failing): renewal drafts of the last three days are still drafts in
       Stripe and have no row locally."""),
    _b("FM-07", "double-charge-without-idempotency-key", "Create retried without Idempotency-Key",
       "account", ("DUPLICATE_REMOTE",), """
       For a sample of one-off card orders the company's backend 'times out' and retries
       PaymentIntent create+confirm without an Idempotency-Key: the generator creates a second
       succeeded PaymentIntent (same customer, amount, currency, metadata.order_id, created
       seconds later). The company keeps one payment per order (metadata.order_id): the DB has
       the first PaymentIntent only; the duplicate charge exists in Stripe alone. Manifest:
       the second PaymentIntent ids (``first`` = the one the DB keeps)."""),
    _b("FM-08", "test-live-mixup", "Test-mode objects in the live DB",
       "history", ("ENV_MISMATCH", "ORPHAN_LOCAL", "ORPHAN_APPLICATION"), """
       The DB is declared live, but a staging deploy once wrote to it: the generator inserts
       accounts, payments and entitlements copied from a test-mode account (livemode false,
       ids that do not exist in the live account); the handler also skips its
       expected_livemode check, so wrong-mode events are applied. Against a live account the
       rows are ENV_MISMATCH; in the (test-mode) world nothing but their ids marks them, which
       Stripe does not know: rows with no Stripe object, value granted with no payment.
       Manifest: the inserted rows' Stripe ids."""),
    _b("FM-10", "incomplete-then-incomplete-expired", "Access granted on an incomplete signup",
       "handler", ("STALE_STATE", "ORPHAN_APPLICATION"), """
       Access is granted on customer.subscription.created whatever the status and incomplete /
       incomplete_expired never revoke it: signups whose first payment never completed keep an
       active entitlement."""),
    _b("FM-11", "zero-decimal-currency-amount-scaling", "JPY amounts divided by 100",
       "handler", ("AMOUNT_MISMATCH.exponent",), """
       Amounts in zero-decimal currencies (JPY, KRW, CLP, VND, ...) are stored as Stripe's
       amount // 100 (a hard-coded cents conversion): a 1000 JPY payment is stored as 10."""),
    _b("FM-12", "three-decimal-currency-amount-scaling", "BHD/KWD amounts treated as 2-decimal",
       "handler", ("AMOUNT_MISMATCH.exponent", "AMOUNT_MISMATCH.rounding"), """
       Amounts in three-decimal currencies (BHD, JOD, KWD, OMR, TND) are stored as Stripe's
       amount // 10 (the helper assumes two decimals; the last digit is lost)."""),
    _b("FM-13", "debit-fulfilled-on-processing-then-failed", "Fulfilled while still processing",
       "handler", ("APPLIED_BEFORE_FINAL", "REVERSED_AFTER_APPLICATION"), """
       One-off purchases are fulfilled on payment_intent.processing and on
       checkout.session.completed with payment_status=unpaid, and nothing revokes them when
       payment_intent.payment_failed or checkout.session.async_payment_failed arrives."""),
    _b("FM-14", "checkout-async-payment-events-ignored", "Checkout async payment events ignored",
       "handler", ("UNAPPLIED_PAYMENT", "APPLIED_BEFORE_FINAL"), """
       checkout.session.async_payment_succeeded and async_payment_failed are ignored:
       delayed-method Checkout orders stay awaiting_payment and are never fulfilled (nor
       marked failed)."""),
    _b("FM-15", "invoice-paid-without-charge", "invoice.paid assumed to have a charge",
       "handler", ("STALE_STATE",), """
       invoice.paid / invoice.payment_succeeded for an invoice settled without a charge
       (amount_paid 0 - credit balance, trial, 100% discount - or paid out of band) raise (HTTP
       500, nothing written): the invoice stays open locally and Stripe retries in vain."""),
    _b("FM-16", "bank-transfer-under-over-payment-in-cash-balance", "Any funding = full payment",
       "handler", ("UNAPPLIED_PAYMENT", "STALE_STATE"), """
       A funded customer_cash_balance_transaction marks the customer's oldest open invoice in
       that currency paid locally whatever the amount, so an underpaid bank transfer unlocks
       an invoice that stays open in Stripe."""),
    _b("FM-17", "voucher-expiry-oxxo-boleto-konbini", "Voucher expiry never handled",
       "handler", ("STALE_STATE", "MISSING_LOCAL"), """
       For voucher methods (oxxo, boleto, konbini) payment_intent.payment_failed / canceled and
       checkout.session.async_payment_failed / expired are ignored: expired vouchers leave
       orders and payments awaiting payment forever (an expired session that never got an
       order row has none at all)."""),
    _b("FM-19", "dunning-end-state-mismatch", "Access only revoked by voluntary cancellation",
       "handler", ("STALE_STATE",), """
       Access is revoked only when a subscription is canceled with cancellation_details.reason
       = cancellation_requested: subscriptions that end dunning as unpaid, or canceled by
       Stripe (payment_failed, payment_disputed, unset), keep their entitlement; the status
       column still syncs."""),
    _b("FM-22", "connect-account-context-lost", "event.account dropped",
       "handler", ("ORPHAN_APPLICATION", "MISSING_LOCAL"), """
       The handler never reads event.account: connected-account customers, subscriptions,
       payments and orders are written as platform rows (connect_account_id NULL) and their
       paid purchases and subscriptions grant platform entitlements."""),
    _b("FM-24", "refund-fails-after-success", "Refunds recorded once, never updated",
       "handler", ("REVERSED_AFTER_APPLICATION", "AMOUNT_MISMATCH.other"), """
       Refunds are recorded when created (refund.created, charge.refunded) and never updated:
       refund.updated, refund.failed and charge.refund.updated are ignored, so a refund that
       later fails stays succeeded (or pending) locally, and so does the payment's
       amount_refunded."""),
    _b("FM-25", "backfill-429-and-lock-timeout", "Backfill died on 429 without a cursor",
       "history", ("MISSING_LOCAL", "UNAPPLIED_PAYMENT"), """
       The handler went live on day 3; what existed before was loaded by a backfill (each
       object's state at go-live, through the handler's own code) that died on rate limits
       without a resume cursor after the first half of the objects by created. Objects past
       the cut that no later event touched are missing locally. Manifest: the objects the
       backfill never reached (a succeeded payment among them is money not applied)."""),
    _b("FM-26", "search-api-read-after-write", "find-or-create through the Search API",
       "account", ("DUPLICATE_REMOTE",), """
       Signup does search-then-create on customers: for a sample of signups the generator
       creates two customers with the same email and metadata.user_id seconds apart. An
       account is one user (one email), so the DB links the first and the second stays
       orphaned in Stripe. Manifest: the second customers (``duplicate_of`` = the linked one)."""),
    _b("FM-30", "meter-events-duplicated-or-aggregation-mismatch", "Usage resent with new ids",
       "history", ("DUPLICATE_REMOTE",), """
       The usage sender generates a fresh identifier on every retry: for a sample of
       usage_records the generator sends two meter events (same customer, value, timestamp,
       different identifier) while the DB holds one row. Manifest: usage record ids and both
       identifiers."""),
    _b("FM-32", "dispute-not-reflected", "Dispute events ignored",
       "handler", ("REVERSED_AFTER_APPLICATION", "STALE_STATE"), """
       charge.dispute.* events are ignored: no dispute row is written and the disputed
       purchase keeps its entitlement."""),
    _b("FM-33", "customer-portal-changes-not-synced", "Subscription updates only sync status",
       "handler", ("STALE_STATE",), """
       customer.subscription.updated only copies status: plan, seats, cancel_at_period_end
       and period changes made outside the app (customer portal, Dashboard) never reach the
       subscriptions table."""),
    _b("FM-34", "trial-end-without-payment-method", "Paused state unknown to the access rule",
       "handler", ("STALE_STATE",), """
       The access rule doesn't know paused: customer.subscription.paused / resumed are ignored
       and a subscription updated to paused (trial ended without a payment method,
       end_behavior=pause) keeps its entitlement."""),
)

SWITCHES: dict[str, BugSwitch] = {s.id: s for s in _SWITCHES}
_BY_SLUG = {s.slug: s.id for s in _SWITCHES}


def handler_bugs(bugs: Iterable[str]) -> frozenset[str]:
    """The subset of `bugs` that the handler app implements."""
    return frozenset(b for b in bugs if SWITCHES[b].layer == "handler")


def parse_bugs(spec: str | Iterable[str] | None) -> frozenset[str]:
    """``"FM-02,FM-13"`` / ``"all"`` / ``"none"`` (or ids, or slugs) → a set of switch ids."""
    if spec is None:
        return frozenset()
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [item.strip() for item in items if item and item.strip()]
    if [n.lower() for n in names] in ([], ["none"]):
        return frozenset()
    if [n.lower() for n in names] == ["all"]:
        return frozenset(SWITCHES)
    found: set[str] = set()
    unknown: list[str] = []
    for name in names:
        key = name.upper()
        if key in SWITCHES:
            found.add(key)
        elif name.lower() in _BY_SLUG:
            found.add(_BY_SLUG[name.lower()])
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError(
            f"unknown bug switch {', '.join(map(repr, unknown))}; valid ids: "
            + ", ".join(SWITCHES),
            hint="pass a comma-separated list of ids, 'all' or 'none'",
        )
    return frozenset(found)


__all__ = ["SWITCHES", "BugSwitch", "Layer", "handler_bugs", "parse_bugs"]
