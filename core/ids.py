"""Identifiers: our own ids, Stripe id prefixes, and deterministic idempotency keys."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

# Stripe id prefix -> (object type, list/retrieve path). Longest prefix wins, so
# "sub_sched_" is found before "sub_". One table, used by the gateway to fetch any object
# by id and by the replica to mint ids of the right shape.
STRIPE_PREFIXES: dict[str, tuple[str, str]] = {
    "acct_": ("account", "/v1/accounts"),
    "cus_": ("customer", "/v1/customers"),
    "prod_": ("product", "/v1/products"),
    "price_": ("price", "/v1/prices"),
    "sub_sched_": ("subscription_schedule", "/v1/subscription_schedules"),
    "sub_": ("subscription", "/v1/subscriptions"),
    "si_": ("subscription_item", "/v1/subscription_items"),
    "in_": ("invoice", "/v1/invoices"),
    "ii_": ("invoiceitem", "/v1/invoiceitems"),
    "cn_": ("credit_note", "/v1/credit_notes"),
    "pi_": ("payment_intent", "/v1/payment_intents"),
    "pm_": ("payment_method", "/v1/payment_methods"),
    "ch_": ("charge", "/v1/charges"),
    "py_": ("charge", "/v1/charges"),
    "re_": ("refund", "/v1/refunds"),
    "pyr_": ("refund", "/v1/refunds"),
    "dp_": ("dispute", "/v1/disputes"),
    "du_": ("dispute", "/v1/disputes"),
    "txn_": ("balance_transaction", "/v1/balance_transactions"),
    "po_": ("payout", "/v1/payouts"),
    "evt_": ("event", "/v1/events"),
    "we_": ("webhook_endpoint", "/v1/webhook_endpoints"),
    "cs_test_": ("checkout.session", "/v1/checkout/sessions"),
    "cs_live_": ("checkout.session", "/v1/checkout/sessions"),
    "mtr_": ("billing.meter", "/v1/billing/meters"),
    "seti_": ("setup_intent", "/v1/setup_intents"),
    "mandate_": ("mandate", "/v1/mandates"),
    "tr_": ("transfer", "/v1/transfers"),
}

_BY_LENGTH = sorted(STRIPE_PREFIXES, key=len, reverse=True)


def stripe_resource_for(object_id: str) -> tuple[str, str] | None:
    """(object type, path) for a Stripe id, or None when the prefix is unknown."""
    for prefix in _BY_LENGTH:
        if object_id.startswith(prefix) and len(object_id) > len(prefix):
            return STRIPE_PREFIXES[prefix]
    return None


# An object id as it appears in tool results and answers ("pi_3Nx…", "in_1Q…:2"): the shape
# the triage `verify` node and the decision rules match ids by, prefix-agnostic on purpose so
# an id of a type the table above does not know is still recognised as one.
OBJECT_ID = re.compile(r"\b[a-z]{2,8}_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{6,}(?::\d+)?\b")


def ids_in(text: str) -> set[str]:
    """Every object id that appears in ``text``."""
    return set(OBJECT_ID.findall(text))


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: sortable, unambiguous


def new_id(prefix: str) -> str:
    """A time-sortable id for our own records, e.g. ``eng_01JD...``."""
    millis = int(time.time() * 1000)
    head = ""
    for _ in range(10):
        head = _ALPHABET[millis & 31] + head
        millis >>= 5
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return f"{prefix}_{head}{tail}"


IDEMPOTENCY_KEY_MAX = 255


def idempotency_key(*parts: str) -> str:
    """Deterministic key for a write: the same plan item always yields the same key.

    Readable parts are kept while they fit; a digest of all parts is always appended so
    two long keys that share a prefix never collide.
    """
    if not parts:
        raise ValueError("idempotency_key needs at least one part")
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    # The key travels as an HTTP header: keep the readable part printable ASCII.
    readable = "".join(c if c.isascii() and c.isprintable() else "_" for c in ":".join(parts))
    room = IDEMPOTENCY_KEY_MAX - len(digest) - len("fde::")
    return f"fde:{readable[:room]}:{digest}"
