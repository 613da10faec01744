"""Payloads of an older API version: what an endpoint pinned to the version before the
corpus's own receives.

Stripe renders each event in the endpoint's API version. The breaking changes a webhook
handler trips over, newest first:

    2025-03-31.basil  invoice.subscription / charge / payment_intent moved under
                      ``parent.subscription_details`` and invoice payments; subscription
                      ``current_period_*`` moved onto ``items.data[]``; invoice lines'
                      subscription / proration moved under ``parent``
    2022-11-15        PaymentIntent ``charges`` list replaced by ``latest_charge``

`OldShape(corpus)` renders a payload one change back from the version it was written in
(its own ``api_version``, else the corpus's): a basil-or-later payload in the shape of
`BEFORE_BASIL`, a 2022-11-15..basil payload in the shape of `BEFORE_CHARGES`. A payload
already older than every change above has no older shape and is left as it is. Fields the
newer shape no longer carries (an invoice's charge and PaymentIntent) are filled from the
corpus itself (its invoice payments and PaymentIntents), never invented.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.shadow.corpus import Corpus

__all__ = ["BEFORE_BASIL", "BEFORE_CHARGES", "OldShape", "older_version"]

BASIL, BEFORE_BASIL = "2025-03-31", "2025-02-24.acacia"
CHARGES, BEFORE_CHARGES = "2022-11-15", "2022-08-01"
Obj = dict[str, Any]


def older_version(version: str | None) -> str | None:
    """The version one breaking change before `version` (None: none known)."""
    day = (version or "")[:10]
    if not day:
        return None
    if day >= BASIL:
        return BEFORE_BASIL
    if day >= CHARGES:
        return BEFORE_CHARGES
    return None


def _oid(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


class OldShape:
    def __init__(self, corpus: Corpus) -> None:
        versions = [e.get("api_version") for e in corpus.events if e.get("api_version")]
        self.version = max(set(versions), key=versions.count) if versions else None
        self.pi_of_invoice: dict[str, str] = {}
        self.charge_of_pi: dict[str, str] = {}
        for event in corpus.events:  # later snapshots win
            obj = event["data"]["object"] or {}
            if obj.get("object") == "invoice_payment":
                pi = _oid((obj.get("payment") or {}).get("payment_intent"))
                if obj.get("invoice") and pi:
                    self.pi_of_invoice[obj["invoice"]] = pi
            elif obj.get("object") == "payment_intent" and _oid(obj.get("latest_charge")):
                self.charge_of_pi[obj["id"]] = _oid(obj["latest_charge"]) or ""
            elif obj.get("object") == "charge" and _oid(obj.get("payment_intent")):
                self.charge_of_pi.setdefault(_oid(obj["payment_intent"]) or "", obj["id"])

    def __call__(self, event: Obj) -> tuple[Obj, bool]:
        """(the event as the older endpoint receives it, whether its object changed)."""
        target = older_version(event.get("api_version") or self.version)
        if target is None:
            return event, False
        out = copy.deepcopy(event)
        out["api_version"] = target
        obj = out["data"]["object"] or {}
        kind = obj.get("object")
        if target == BEFORE_BASIL and kind == "invoice" and "parent" in obj:
            self._invoice(obj)
        elif target == BEFORE_BASIL and kind == "subscription":
            return out, _subscription(obj)
        elif target == BEFORE_CHARGES and kind == "payment_intent" and "latest_charge" in obj:
            _payment_intent(obj)
        else:
            return out, False
        return out, True

    def _invoice(self, obj: Obj) -> None:
        parent = obj.pop("parent", None) or {}
        details = parent.get("subscription_details") or {}
        obj["subscription"] = details.get("subscription")
        obj["subscription_details"] = {"metadata": details.get("metadata") or {}}
        pi = self.pi_of_invoice.get(obj.get("id") or "")
        obj["payment_intent"] = pi
        obj["charge"] = self.charge_of_pi.get(pi or "")
        obj["paid"] = obj.get("status") == "paid"
        for line in (obj.get("lines") or {}).get("data") or []:
            lp = line.pop("parent", None) or {}
            item = lp.get("subscription_item_details") or lp.get("invoice_item_details") or {}
            line["subscription"] = item.get("subscription") or line.get("subscription")
            line["subscription_item"] = item.get("subscription_item")
            line["proration"] = bool(item.get("proration"))
            line["type"] = "subscription" if lp.get("type") == \
                "subscription_item_details" else "invoiceitem"
            price = (line.pop("pricing", None) or {}).get("price_details") or {}
            if price.get("price"):
                line["price"] = {"id": price["price"], "object": "price",
                                 "product": price.get("product")}


def _subscription(obj: Obj) -> bool:
    items = (obj.get("items") or {}).get("data") or []
    if not items or "current_period_end" not in items[0]:
        return False  # already in the older shape
    obj["current_period_start"] = items[0].get("current_period_start")
    obj["current_period_end"] = items[0].get("current_period_end")
    for item in items:
        item.pop("current_period_start", None)
        item.pop("current_period_end", None)
    return True


def _payment_intent(obj: Obj) -> None:
    charge_id = _oid(obj.pop("latest_charge", None))
    obj["charges"] = {"object": "list", "has_more": False, "total_count": 1 if charge_id else 0,
                      "url": f"/v1/charges?payment_intent={obj.get('id')}",
                      "data": [{"id": charge_id, "object": "charge"}] if charge_id else []}
