"""What a Stripe API path is: a list, a retrieve, a search, a create, an update or an action
on which resource — read from the path alone, since an exported log has no route table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["EXPANDABLE", "Call", "classify"]

Op = Literal["list", "retrieve", "search", "create", "update", "action", "delete", "other"]

# Resources that live under a namespace segment (``/v1/billing/meters``).
_NAMESPACES = frozenset({
    "apps", "billing", "billing_portal", "checkout", "climate", "entitlements",
    "financial_connections", "forwarding", "identity", "issuing", "radar", "reporting",
    "sigma", "tax", "terminal", "test_helpers", "treasury",
})
# Stripe ids carry a prefix and random base62; resource names are lower-case words only.
# An all-lower-case random part is rare but possible, hence the length alternative.
_ID = re.compile(r"^[a-z]+(_[a-z]+)*_([A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*|[a-z0-9]{14,})$")

# list resource → {retrieved resource: the field whose expansion makes that retrieve moot}.
# Fields from Stripe's API reference (expandable fields of each object).
EXPANDABLE: dict[str, dict[str, str]] = {
    "invoices": {"customers": "customer", "subscriptions": "subscription",
                 "payment_intents": "payment_intent", "charges": "charge"},
    "subscriptions": {"customers": "customer", "invoices": "latest_invoice",
                      "payment_methods": "default_payment_method"},
    "payment_intents": {"customers": "customer", "charges": "latest_charge",
                        "payment_methods": "payment_method", "invoices": "invoice"},
    "charges": {"customers": "customer", "payment_intents": "payment_intent",
                "balance_transactions": "balance_transaction", "invoices": "invoice"},
    "refunds": {"charges": "charge", "payment_intents": "payment_intent"},
    "disputes": {"charges": "charge", "payment_intents": "payment_intent"},
    "credit_notes": {"invoices": "invoice", "customers": "customer"},
    "invoiceitems": {"customers": "customer", "invoices": "invoice"},
    "prices": {"products": "product"},
    "subscription_items": {"prices": "price"},
    "checkout/sessions": {"customers": "customer", "payment_intents": "payment_intent",
                          "subscriptions": "subscription", "invoices": "invoice"},
    "balance_transactions": {"charges": "source", "refunds": "source", "payouts": "source"},
    "payouts": {"balance_transactions": "balance_transaction"},
}


@dataclass(frozen=True)
class Call:
    op: Op
    resource: str  # "customers", "checkout/sessions", "customers/balance_transactions"
    object_id: str | None = None


def classify(method: str, path: str) -> Call:
    parts = [p for p in path.split("/") if p][1:]  # drop "v1"
    if parts and parts[0] in _NAMESPACES and len(parts) > 1:
        parts = [f"{parts[0]}/{parts[1]}", *parts[2:]]
    if not parts:
        return Call("other", "")
    resource, rest = parts[0], parts[1:]
    if not rest and resource in _SINGLETONS:
        return Call("retrieve" if method == "GET" else "update", resource)
    if not rest:
        return Call({"GET": "list", "POST": "create"}.get(method, "other"), resource)
    if rest == ["search"] and method == "GET":
        return Call("search", resource)
    if not _ID.match(rest[0]):
        return Call("other", "/".join(parts))
    object_id = rest[0]
    if len(rest) == 1:
        op: Op = {"GET": "retrieve", "POST": "update", "DELETE": "delete"}.get(  # type: ignore[assignment]
            method, "other")
        return Call(op, resource, object_id)
    nested = f"{resource}/{rest[1]}"
    if len(rest) == 2:
        if method == "GET":
            return Call("list", nested, object_id)
        return Call("create" if rest[1] in _NESTED_COLLECTIONS else "action", nested, object_id)
    if len(rest) == 3 and _ID.match(rest[2]):
        op = {"GET": "retrieve", "POST": "update", "DELETE": "delete"}.get(  # type: ignore[assignment]
            method, "other")
        return Call(op, nested, rest[2])
    return Call("other", "/".join(parts), object_id)


_SINGLETONS = frozenset({"balance", "account"})
# POST to these sub-paths creates a child object; any other POST sub-path is an action
# (``/pay``, ``/finalize``, ``/confirm``, ``/cancel``).
_NESTED_COLLECTIONS = frozenset({
    "balance_transactions", "sources", "tax_ids", "items", "external_accounts", "persons",
    "lines", "reversals", "refunds",
})
