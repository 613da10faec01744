"""Stripe event handlers: a dispatch table of event type → coroutine.

Every handler runs inside the request's transaction (the webhook view holds the inbox row
and a global advisory lock), gets a dict-row cursor, the parsed event and a `Context`, and
returns the inbox status: ``"done"`` when it changed or confirmed something, ``"skipped"``
when the event says nothing new to us (stale snapshot, not a top-up, ...).

Stripe does not promise delivery order, so nothing here trusts arrival order:
subscription snapshots and plan-state signals carry the ``event.created`` they came from and
an older one never overwrites a newer one; a canceled subscription never comes back;
top-ups and disputes only move forward through their own status order. Derived columns
(tier, quota, suspension) are recomputed from those facts by `refresh_account`, so they come
out the same whatever order the facts arrived in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

log = logging.getLogger("lumen.webhooks")

Event = dict[str, Any]

# --variant: the production build is "correct"; the others are builds with one known bug
# each, kept for shadow-testing the release pipeline.
VARIANTS: dict[str, str] = {
    "correct": "the production build",
    "inbox_not_checked": "event_inbox is upserted but never consulted, so a redelivered "
                         "event is processed again (a second invoice_ledger row per "
                         "redelivered invoice.paid)",
    "last_write_wins": "subscription and invoice events set plan_state in arrival order: "
                       "no comparison with the stored snapshot's event time, and a closed "
                       "account can be reopened by a late event",
    "grant_on_processing": "payment_intent.processing grants the top-up; a bank debit that "
                           "later fails keeps its gigabytes",
    "yen_divided_by_100": "invoice_ledger.amount_major divides by 100 for every currency, "
                          "so JPY amounts are 100x too small",
    "newest_shape_only": "reads the invoice's subscription only from "
                         "parent.subscription_details and period end only from the items; "
                         "older-version payloads lose both",
    "refund_ignored": "charge.refunded has no handler: refunded top-ups keep their gigabytes",
    "dispute_ignored": "charge.dispute.* have no handler: disputed accounts are never "
                       "suspended",
    "slow_receipt": "the renewal receipt is rendered inline before answering invoice.paid; "
                    "for JPY renewals that takes about 12 s, so Stripe times out and retries",
    "tight_signature_window": "signature timestamp tolerance cut to 60 s, so deliveries "
                              "signed a few minutes earlier are rejected with 400",
}


@dataclass
class Context:
    variant: str = "correct"
    # Invoices to send a receipt for once the transaction has committed.
    receipts: list[dict[str, Any]] = field(default_factory=list)

    def bug(self, name: str) -> bool:
        return self.variant == name


Handler = Callable[[Any, Event, Context], Awaitable[str]]

# Stripe subscription status → Lumen plan_state.
PLAN_STATE = {
    "trialing": "trialing",
    "active": "ok",
    "past_due": "payment_issue",
    "unpaid": "payment_issue",
    "incomplete": "payment_issue",
    "paused": "payment_issue",
    "canceled": "closed",
    "incomplete_expired": "closed",
}
# Lifecycle order of what Stripe tells us, for events stamped in the same second.
SIGNAL_RANK = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2, "invoice.paid": 2,
    "past_due": 3, "invoice.payment_failed": 3,
    "unpaid": 4, "paused": 4,
    "canceled": 5, "incomplete_expired": 5,
}
FINAL_RANK = 5

# Minor-unit exponent per currency (Stripe sends every amount in the minor unit).
ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
})
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

TOPUP_ORDER = ["pending", "failed", "granted", "refunded"]
TOPUP_STATUS_FOR = {
    "payment_intent.processing": "pending",
    "payment_intent.succeeded": "granted",
    "payment_intent.payment_failed": "failed",
}
DISPUTE_CLOSED = ("won", "lost", "warning_closed")
DISPUTE_NOT_SUSPENDING = ("won", "warning_closed")


# -- small readers --------------------------------------------------------------------------
def exponent(currency: str) -> int:
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount_minor: int, currency: str, ctx: Context) -> Decimal:
    if ctx.bug("yen_divided_by_100"):
        return (Decimal(amount_minor) / 100).quantize(Decimal("0.01"))
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def invoice_subscription(invoice: dict[str, Any], ctx: Context) -> str | None:
    """The subscription an invoice bills. Since 2025-03-31.basil it sits under
    ``parent.subscription_details``; endpoints on older versions get ``invoice.subscription``."""
    parent = invoice.get("parent") or {}
    sub = (parent.get("subscription_details") or {}).get("subscription")
    if sub or ctx.bug("newest_shape_only"):
        return _id(sub)
    return _id(invoice.get("subscription"))


def _first_item(sub: dict[str, Any]) -> dict[str, Any]:
    items = (sub.get("items") or {}).get("data") or []
    return items[0] if items else {}


def period_end(sub: dict[str, Any], ctx: Context) -> int | None:
    """current_period_end moved from the subscription to its items in basil."""
    end = _first_item(sub).get("current_period_end")
    if end is not None or ctx.bug("newest_shape_only"):
        return end
    return sub.get("current_period_end")


def subscription_product(sub: dict[str, Any]) -> str | None:
    item = _first_item(sub)
    price = item.get("price") or item.get("plan") or {}
    return _id(price.get("product"))


def topup_gb(metadata: dict[str, Any] | None) -> int | None:
    raw = (metadata or {}).get("topup_gb")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        log.warning("unreadable topup_gb %r", raw)
        return None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value


def latest_charge(pi: dict[str, Any]) -> str | None:
    if pi.get("latest_charge"):
        return _id(pi["latest_charge"])
    charges = (pi.get("charges") or {}).get("data") or []  # before 2022-11-15
    return charges[0]["id"] if charges else None


def supersedes(held_as_of: int | None, held_signal: str | None, created: int, signal: str,
               ctx: Context) -> bool:
    """Does `signal` (a subscription status, or ``invoice.paid`` / ``invoice.payment_failed``)
    from an event created at `created` replace the one we hold?

    Newer events win. Stripe stamps events in whole seconds and one API call often emits
    several for the same customer in the same second (``incomplete`` → invoice paid →
    ``active``), so within a second the later lifecycle step wins. A canceled subscription
    never comes back.
    """
    if ctx.bug("last_write_wins"):
        return True
    if held_as_of is None or held_signal is None:
        return True
    if SIGNAL_RANK.get(held_signal, 0) >= FINAL_RANK:
        return False
    if created != held_as_of:
        return created > held_as_of
    return SIGNAL_RANK.get(signal, 0) >= SIGNAL_RANK.get(held_signal, 0)


# -- shared writes --------------------------------------------------------------------------
async def ensure_account(cur: Any, customer: str) -> dict[str, Any]:
    await cur.execute(
        "INSERT INTO studio_account (stripe_customer_id) VALUES (%s)"
        " ON CONFLICT (stripe_customer_id) DO NOTHING",
        (customer,),
    )
    await cur.execute("SELECT * FROM studio_account WHERE stripe_customer_id = %s", (customer,))
    return await cur.fetchone()


async def set_plan_state(cur: Any, customer: str, state: str, signal: str,
                         as_of: int) -> None:
    await cur.execute(
        "UPDATE studio_account SET plan_state = %s, plan_signal = %s, plan_state_as_of = %s,"
        " updated_at = now() WHERE stripe_customer_id = %s",
        (state, signal, as_of, customer),
    )


REFRESH_SQL = """
UPDATE studio_account a SET
    tier_key = (SELECT p.tier_key FROM stripe_product p WHERE p.product_id = a.stripe_product_id),
    topup_gb = t.gb,
    quota_gb = t.gb + COALESCE((
        SELECT tc.quota_gb FROM stripe_product p JOIN tier_catalog tc USING (tier_key)
        WHERE p.product_id = a.stripe_product_id), 0),
    suspended = EXISTS (
        SELECT 1 FROM topup_dispute dp
        JOIN storage_topup s ON s.payment_intent_id = dp.payment_intent_id
                             OR s.charge_id = dp.charge_id
        WHERE s.stripe_customer_id = a.stripe_customer_id
          AND dp.status <> ALL (%(not_suspending)s::text[])),
    updated_at = now()
FROM (
    SELECT COALESCE(SUM(gb) FILTER (WHERE status = 'granted'), 0)::integer AS gb
    FROM storage_topup WHERE stripe_customer_id = %(customer)s
) t
WHERE a.stripe_customer_id = %(customer)s
"""


async def refresh_account(cur: Any, customer: str) -> None:
    """Recompute tier, quota and suspension from the facts we hold."""
    await cur.execute(
        REFRESH_SQL, {"customer": customer, "not_suspending": list(DISPUTE_NOT_SUSPENDING)}
    )


ADVANCE_TOPUP_SQL = """
INSERT INTO storage_topup
    (payment_intent_id, stripe_customer_id, charge_id, gb, currency, amount_minor, status)
VALUES (%(pi)s, %(customer)s, %(charge)s, %(gb)s, %(currency)s, %(amount)s, %(status)s)
ON CONFLICT (payment_intent_id) DO UPDATE SET
    stripe_customer_id = COALESCE(storage_topup.stripe_customer_id, EXCLUDED.stripe_customer_id),
    charge_id = COALESCE(storage_topup.charge_id, EXCLUDED.charge_id),
    gb = GREATEST(storage_topup.gb, EXCLUDED.gb),
    currency = COALESCE(storage_topup.currency, EXCLUDED.currency),
    amount_minor = COALESCE(storage_topup.amount_minor, EXCLUDED.amount_minor),
    status = CASE
        WHEN array_position(%(order)s::text[], EXCLUDED.status)
             > array_position(%(order)s::text[], storage_topup.status)
        THEN EXCLUDED.status ELSE storage_topup.status END,
    updated_at = now()
"""


async def advance_topup(cur: Any, *, pi: str, customer: str | None, charge: str | None,
                        gb: int, currency: str | None, amount: int | None,
                        status: str) -> None:
    await cur.execute(ADVANCE_TOPUP_SQL, {
        "pi": pi, "customer": customer, "charge": charge, "gb": gb, "currency": currency,
        "amount": amount, "status": status, "order": TOPUP_ORDER,
    })


# -- handlers -------------------------------------------------------------------------------
async def on_product(cur: Any, event: Event, ctx: Context) -> str:
    product = event["data"]["object"]
    await cur.execute(
        "INSERT INTO stripe_product (product_id, name, tier_key, as_of) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name,"
        " tier_key = EXCLUDED.tier_key, as_of = EXCLUDED.as_of"
        " WHERE stripe_product.as_of <= EXCLUDED.as_of",
        (product["id"], product.get("name"), (product.get("metadata") or {}).get("tier_key"),
         event["created"]),
    )
    await cur.execute(
        "SELECT stripe_customer_id FROM studio_account WHERE stripe_product_id = %s"
        " ORDER BY stripe_customer_id",
        (product["id"],),
    )
    for row in await cur.fetchall():
        await refresh_account(cur, row["stripe_customer_id"])
    return "done"


async def on_subscription(cur: Any, event: Event, ctx: Context) -> str:
    sub = event["data"]["object"]
    created = event["created"]
    customer = _id(sub["customer"])
    account = await ensure_account(cur, customer)
    status = sub["status"]
    applied = False

    if supersedes(account["subscription_as_of"], account["subscription_status"], created,
                  status, ctx):
        await cur.execute(
            "UPDATE studio_account SET stripe_subscription_id = %s, stripe_product_id = %s,"
            " subscription_status = %s, subscription_as_of = %s, billing_currency = %s,"
            " paid_through = to_timestamp(%s), updated_at = now()"
            " WHERE stripe_customer_id = %s",
            (sub["id"], subscription_product(sub), status, created, sub.get("currency"),
             period_end(sub, ctx), customer),
        )
        applied = True

    if supersedes(account["plan_state_as_of"], account["plan_signal"], created, status, ctx):
        await set_plan_state(cur, customer, PLAN_STATE.get(status, "payment_issue"), status,
                             created)
        applied = True

    await refresh_account(cur, customer)
    return "done" if applied else "skipped"


async def on_invoice_paid(cur: Any, event: Event, ctx: Context) -> str:
    invoice = event["data"]["object"]
    customer = _id(invoice["customer"])
    subscription = invoice_subscription(invoice, ctx)
    account = await ensure_account(cur, customer)
    amount = invoice["amount_paid"]
    currency = invoice["currency"]

    await cur.execute(
        "INSERT INTO invoice_ledger (stripe_invoice_id, stripe_customer_id,"
        " stripe_subscription_id, billing_reason, currency, amount_minor, amount_major, paid_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, to_timestamp(%s))",
        (invoice["id"], customer, subscription, invoice.get("billing_reason"), currency,
         amount, to_major(amount, currency, ctx),
         (invoice.get("status_transitions") or {}).get("paid_at")),
    )

    # A zero-amount invoice (trial start) says nothing about the customer's payments.
    if subscription and amount > 0 and supersedes(
            account["plan_state_as_of"], account["plan_signal"], event["created"],
            "invoice.paid", ctx):
        await set_plan_state(cur, customer, "ok", "invoice.paid", event["created"])

    if amount > 0 and invoice.get("billing_reason") == "subscription_cycle":
        ctx.receipts.append({"invoice": invoice["id"], "customer": customer,
                             "currency": currency, "amount": amount})
    return "done"


async def on_invoice_payment_failed(cur: Any, event: Event, ctx: Context) -> str:
    invoice = event["data"]["object"]
    if not invoice_subscription(invoice, ctx):
        return "skipped"
    customer = _id(invoice["customer"])
    account = await ensure_account(cur, customer)
    if not supersedes(account["plan_state_as_of"], account["plan_signal"], event["created"],
                      "invoice.payment_failed", ctx):
        return "skipped"
    await set_plan_state(cur, customer, "payment_issue", "invoice.payment_failed",
                         event["created"])
    return "done"


async def on_payment_intent(cur: Any, event: Event, ctx: Context) -> str:
    pi = event["data"]["object"]
    gb = topup_gb(pi.get("metadata"))
    if gb is None:
        return "skipped"  # invoice payments: the invoice.* events cover those
    status = TOPUP_STATUS_FOR[event["type"]]
    if ctx.bug("grant_on_processing") and status == "pending":
        status = "granted"
    customer = _id(pi.get("customer"))
    await advance_topup(cur, pi=pi["id"], customer=customer, charge=latest_charge(pi), gb=gb,
                        currency=pi.get("currency"), amount=pi.get("amount"), status=status)
    if customer:
        await ensure_account(cur, customer)
        await refresh_account(cur, customer)
    return "done"


async def on_charge_refunded(cur: Any, event: Event, ctx: Context) -> str:
    charge = event["data"]["object"]
    pi = _id(charge.get("payment_intent"))
    if not pi or not charge.get("refunded"):
        return "skipped"  # partial refunds keep the gigabytes
    gb = topup_gb(charge.get("metadata"))
    if gb is None:
        await cur.execute("SELECT 1 FROM storage_topup WHERE payment_intent_id = %s", (pi,))
        if await cur.fetchone() is None:
            return "skipped"  # not a top-up
    customer = _id(charge.get("customer"))
    await advance_topup(cur, pi=pi, customer=customer, charge=charge["id"], gb=gb or 0,
                        currency=charge.get("currency"), amount=charge.get("amount"),
                        status="refunded")
    if customer:
        await ensure_account(cur, customer)
        await refresh_account(cur, customer)
    return "done"


async def on_dispute(cur: Any, event: Event, ctx: Context) -> str:
    dispute = event["data"]["object"]
    pi = _id(dispute.get("payment_intent"))
    charge = _id(dispute.get("charge"))
    await cur.execute(
        "INSERT INTO topup_dispute (dispute_id, payment_intent_id, charge_id, status, reason,"
        " as_of) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (dispute_id) DO UPDATE SET status = EXCLUDED.status,"
        " as_of = EXCLUDED.as_of,"
        " payment_intent_id = COALESCE(topup_dispute.payment_intent_id,"
        "                              EXCLUDED.payment_intent_id)"
        " WHERE topup_dispute.status <> ALL (%s::text[])"
        "   AND topup_dispute.as_of <= EXCLUDED.as_of",
        (dispute["id"], pi, charge, dispute["status"], dispute.get("reason"), event["created"],
         list(DISPUTE_CLOSED)),
    )
    await cur.execute(
        "SELECT DISTINCT stripe_customer_id FROM storage_topup"
        " WHERE (payment_intent_id = %s OR charge_id = %s) AND stripe_customer_id IS NOT NULL",
        (pi, charge),
    )
    for row in await cur.fetchall():
        await refresh_account(cur, row["stripe_customer_id"])
    return "done"


def dispatch_table(variant: str) -> dict[str, Handler]:
    table: dict[str, Handler] = {
        "product.created": on_product,
        "product.updated": on_product,
        "customer.subscription.created": on_subscription,
        "customer.subscription.updated": on_subscription,
        "customer.subscription.deleted": on_subscription,
        "invoice.paid": on_invoice_paid,
        "invoice.payment_failed": on_invoice_payment_failed,
        "payment_intent.processing": on_payment_intent,
        "payment_intent.succeeded": on_payment_intent,
        "payment_intent.payment_failed": on_payment_intent,
        "charge.refunded": on_charge_refunded,
        "charge.dispute.created": on_dispute,
        "charge.dispute.updated": on_dispute,
        "charge.dispute.funds_withdrawn": on_dispute,
        "charge.dispute.funds_reinstated": on_dispute,
        "charge.dispute.closed": on_dispute,
    }
    if variant == "refund_ignored":
        del table["charge.refunded"]
    if variant == "dispute_ignored":
        for name in [name for name in table if name.startswith("charge.dispute.")]:
            del table[name]
    return table
