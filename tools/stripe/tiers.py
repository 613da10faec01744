"""Permission tiers: `read` < `write` < `money`, and the floor some endpoints impose.

Callers declare the tier of a write; for endpoints that move money (refunds, charges,
captures, payouts, transfers, credits, invoice pay/void, subscription create/cancel) the
gateway raises the requirement to `money` whatever was declared, so a mislabelled call
cannot slip a refund through a `write` grant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["Tier", "WriteTier", "required_tier", "tier_allows"]

Tier = Literal["read", "write", "money"]
WriteTier = Literal["write", "money"]
_RANK: dict[str, int] = {"read": 0, "write": 1, "money": 2}

_ID = r"[A-Za-z0-9_]+"
_MONEY: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("post", r"/v1/refunds"),
        ("post", r"/v1/charges"),
        ("post", rf"/v1/charges/{_ID}/(capture|refunds?)"),
        ("post", rf"/v1/payment_intents/{_ID}/(confirm|capture|increment_authorization)"),
        ("post", r"/v1/payouts"),
        ("post", r"/v1/transfers"),
        ("post", rf"/v1/transfers/{_ID}/reversals"),
        ("post", r"/v1/credit_notes"),
        ("post", rf"/v1/customers/{_ID}/balance_transactions"),
        ("post", rf"/v1/invoices/{_ID}/(pay|void|mark_uncollectible)"),
        ("post", r"/v1/subscriptions"),  # creating one charges its first invoice
        ("post", rf"/v1/subscriptions/{_ID}/cancel"),
        ("delete", rf"/v1/subscriptions/{_ID}"),
        ("post", rf"/v1/application_fees/{_ID}/refunds"),
    )
)
_TRUE = (True, "true", "True", "1", 1)


def tier_allows(granted: Tier, needed: Tier) -> bool:
    return _RANK[granted] >= _RANK[needed]


def required_tier(
    method: str, path: str, params: Mapping[str, Any] | None, declared: WriteTier
) -> WriteTier:
    """The declared tier, raised to `money` where the endpoint moves money."""
    if declared == "money":
        return "money"
    method = method.lower()
    if any(m == method and pattern.fullmatch(path) for m, pattern in _MONEY):
        return "money"
    if (
        method == "post"
        and path == "/v1/payment_intents"
        and (params or {}).get("confirm") in _TRUE
    ):
        return "money"
    return declared
