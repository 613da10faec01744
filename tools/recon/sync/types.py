"""Which Stripe object types the recon snapshot holds, and how each is listed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["ListSpec", "SYNC_TYPES", "DEFAULT_TYPES", "resolve_types"]


class ListSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    object_type: str
    path: str
    params: dict[str, Any] = {}
    windowable: bool = True  # the list endpoint accepts `created` ranges
    # Listed per parent object (sync/children.py): `path` may hold ``{parent}``; the parent's
    # id goes in the `parent_param` query parameter and is stored as `parent_field`.
    parent: str | None = None
    parent_param: str | None = None
    parent_field: str | None = None
    parent_filter: dict[str, Any] = {}  # only parents whose fields have these values
    # Children asked for by a function of the whole parent rather than one list call with
    # the parent's id (sync/children.py names them).
    fetch: Literal["meter_usage"] | None = None
    # No event announces a change (computed views such as meter event summaries): listed in
    # full on every sync instead of following the events cursor.
    refresh: bool = False


def _s(object_type: str, path: str, windowable: bool = True, **params: Any) -> ListSpec:
    return ListSpec(object_type=object_type, path=path, params=params, windowable=windowable)


def _child(object_type: str, path: str, parent: str, **options: Any) -> ListSpec:
    return ListSpec(object_type=object_type, path=path, windowable=False, parent=parent,
                    **options)


# Order matters for a first sync: catalogue and customers first (they land in every replica
# and emulator), then billing and payments, then events (the incremental cursor).
_ALL = (
    _s("customer", "/v1/customers"),
    _s("product", "/v1/products"),
    _s("price", "/v1/prices"),
    _s("subscription", "/v1/subscriptions", status="all"),
    _s("invoice", "/v1/invoices"),
    _s("payment_intent", "/v1/payment_intents"),
    _s("charge", "/v1/charges"),
    _s("refund", "/v1/refunds"),
    _s("dispute", "/v1/disputes"),
    _s("checkout.session", "/v1/checkout/sessions"),
    _s("payout", "/v1/payouts"),
    _s("billing.meter", "/v1/billing/meters", windowable=False),
    # after their parents: a pass walks the parents already in the snapshot
    _child("balance_transaction", "/v1/balance_transactions", "payout",
           parent_param="payout", parent_field="payout", parent_filter={"automatic": True}),
    _child("customer_cash_balance_transaction",
           "/v1/customers/{parent}/cash_balance_transactions", "customer"),
    _child("billing.meter_event_summary", "/v1/billing/meters/{meter}/event_summaries",
           "subscription", fetch="meter_usage", refresh=True),
    _s("webhook_endpoint", "/v1/webhook_endpoints", windowable=False),
    _s("event", "/v1/events"),
)
SYNC_TYPES: dict[str, ListSpec] = {s.object_type: s for s in _ALL}
DEFAULT_TYPES: tuple[str, ...] = tuple(SYNC_TYPES)

_ALIASES = {"customers": "customer", "products": "product", "prices": "price",
            "subscriptions": "subscription", "invoices": "invoice",
            "payment_intents": "payment_intent", "payments": "payment_intent",
            "charges": "charge", "refunds": "refund", "disputes": "dispute",
            "checkout_sessions": "checkout.session", "payouts": "payout",
            "balance_transactions": "balance_transaction",
            "cash_balance_transactions": "customer_cash_balance_transaction",
            "meters": "billing.meter", "meter_event_summaries": "billing.meter_event_summary",
            "events": "event", "webhook_endpoints": "webhook_endpoint"}


def resolve_types(names: list[str] | None) -> list[str]:
    """Object types from user input (plural or singular); ValueError names unknown ones."""
    if not names:
        return list(DEFAULT_TYPES)
    out: list[str] = []
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if not part:
                continue
            key = _ALIASES.get(part, part)
            if key not in SYNC_TYPES:
                raise ValueError(
                    f"unknown Stripe object type {part!r}; known: {', '.join(SYNC_TYPES)}"
                )
            out.append(key)
    return list(dict.fromkeys(out))
