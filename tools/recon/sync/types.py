"""Which Stripe object types the recon snapshot holds, and how each is listed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ListSpec", "SYNC_TYPES", "DEFAULT_TYPES", "resolve_types"]


class ListSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    object_type: str
    path: str
    params: dict[str, Any] = {}
    windowable: bool = True  # the list endpoint accepts `created` ranges


def _s(object_type: str, path: str, windowable: bool = True, **params: Any) -> ListSpec:
    return ListSpec(object_type=object_type, path=path, params=params, windowable=windowable)


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
