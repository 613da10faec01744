"""Payloads of another API version: what an endpoint pinned to an older version receives.

Stripe renders each event in the endpoint's API version. The breaking changes a handler
written for 2025-03-31+ trips over when its endpoint (or a second endpoint) is older:

    2025-03-31.basil  invoice.subscription / charge / payment_intent moved under
                      ``parent.subscription_details`` and invoice payments; subscription
                      ``current_period_*`` moved onto ``items.data[]``
    2022-11-15        PaymentIntent ``charges`` list replaced by ``latest_charge``

`render_old` rewrites a payload into the shape of `OLD_VERSION` (before both changes).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["OLD_VERSION", "render_old"]

OLD_VERSION = "2022-08-01"
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


def _payment_intent(obj: Obj) -> None:
    latest = obj.pop("latest_charge", None)
    charge_id = latest.get("id") if isinstance(latest, dict) else latest
    obj["charges"] = {"object": "list", "has_more": False, "total_count": 1 if charge_id else 0,
                      "url": f"/v1/charges?payment_intent={obj.get('id')}",
                      "data": [{"id": charge_id, "object": "charge"}] if charge_id else []}


_RENDER = {"invoice": _invoice, "subscription": _subscription,
           "payment_intent": _payment_intent}


def render_old(event: Obj) -> tuple[Obj, bool]:
    """(the event as an `OLD_VERSION` endpoint receives it, whether its object changed)."""
    out = copy.deepcopy(event)
    out["api_version"] = OLD_VERSION
    obj = out["data"]["object"]
    render = _RENDER.get(obj.get("object") or "")
    if render is None:
        return out, False
    render(obj)
    return out, True
