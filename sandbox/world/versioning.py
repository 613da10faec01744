"""Events rendered for an endpoint pinned to an older API version (FM-05).

The replica renders every event in its current version (2026-10-28.endive). Stripe renders
an event in the endpoint's version; for 2024-06-20 the differences the company's handler
trips over are: invoices carry ``subscription`` / ``charge`` / ``payment_intent`` at the top
level (no ``parent``), and subscriptions carry ``current_period_start/end`` at the top level
(not on ``items.data[]``). `render` rewrites a delivered payload that way.
"""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]


def _invoice(obj: Obj) -> None:
    parent = obj.pop("parent", None) or {}
    obj["subscription"] = (parent.get("subscription_details") or {}).get("subscription")
    obj.setdefault("charge", None)
    obj.setdefault("payment_intent", None)


def _subscription(obj: Obj) -> None:
    items = (obj.get("items") or {}).get("data") or []
    first = items[0] if items else {}
    obj["current_period_start"] = first.get("current_period_start")
    obj["current_period_end"] = first.get("current_period_end")
    for item in items:
        item.pop("current_period_start", None)
        item.pop("current_period_end", None)


def render(event: Obj, api_version: str) -> tuple[Obj, bool]:
    """(event as the endpoint receives it, whether its object's shape changed)."""
    out = copy.deepcopy(event)
    out["api_version"] = api_version
    obj = out["data"]["object"]
    if obj.get("object") == "invoice":
        _invoice(obj)
        return out, True
    if obj.get("object") == "subscription":
        _subscription(obj)
        return out, True
    return out, False


__all__ = ["render"]
