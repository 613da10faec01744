"""What Stripe says once events settle, read from the corpus itself: the newest snapshot of
every object, and which purchases are paid, processing, refunded, disputed or failed.

The invariants compare a handler's final state with this; nothing here reads the handler.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from tools.shadow.corpus import Corpus

__all__ = ["Policy", "Truth"]

Obj = dict[str, Any]
FAILED_PI = frozenset({"requires_payment_method", "canceled"})
REFUNDING = frozenset({"pending", "requires_action", "succeeded"})
REVERSAL_TYPES = ("refund.", "charge.refund", "charge.dispute.", "payment_intent.payment_failed",
                  "payment_intent.canceled", "checkout.session.async_payment_failed")


class Policy(BaseModel):
    """The user's entitlement policy, as the invariants need it (defaults: the common
    SaaS pattern — access while a subscription is trialing/active/past_due, one-off
    purchases fulfil ``metadata.<feature_key>`` once paid)."""

    entitlement_entity: str = "entitlement"
    feature_key: str = "feature"
    entitled_statuses: frozenset[str] = frozenset({"trialing", "active", "past_due"})
    connect_grants: bool = False  # connected-account sales never grant platform access


def _oid(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


class Truth:
    def __init__(self, corpus: Corpus, policy: Policy) -> None:
        self.corpus = corpus
        self.policy = policy
        latest: dict[str, tuple[int, int, Obj, Obj]] = {}
        self.types_of: dict[str, set[str]] = defaultdict(set)
        for i, event in enumerate(corpus.events):
            obj = event["data"]["object"]
            oid = obj.get("id")
            if not oid:
                continue
            self.types_of[oid].add(event["type"])
            key = (int(event["created"]), i)
            if oid not in latest or key >= latest[oid][:2]:
                latest[oid] = (*key, obj, event)
        self.final: dict[str, Obj] = {k: v[2] for k, v in latest.items()}
        self.account: dict[str, str | None] = {k: v[3].get("account") for k, v in latest.items()}

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.final.values() if o.get("object") == kind]

    def granting(self, oid: str) -> bool:
        return self.policy.connect_grants or not self.account.get(oid)

    # -- subscriptions --------------------------------------------------------------------
    @cached_property
    def subscriptions(self) -> dict[str, tuple[bool, set[str]]]:
        """sub id -> (entitled, names its plan may be stored under)."""
        out = {}
        for sub in self.of("subscription"):
            if not self.granting(sub["id"]):
                continue
            items = (sub.get("items") or {}).get("data") or [{}]
            price = items[0].get("price") or {}
            names = {n for n in (price.get("lookup_key"), price.get("id")) if n}
            out[sub["id"]] = (sub.get("status") in self.policy.entitled_statuses, names)
        return out

    # -- purchases ------------------------------------------------------------------------
    @cached_property
    def sessions_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for cs in self.of("checkout.session"):
            pi = _oid(cs.get("payment_intent"))
            if pi:
                out[pi].append(cs["id"])
        return out

    @cached_property
    def purchases(self) -> dict[str, str]:
        """source id (PaymentIntent or Checkout Session) -> its PaymentIntent id ('' when
        it has none yet)."""
        key = self.policy.feature_key
        out: dict[str, str] = {}
        for pi in self.of("payment_intent"):
            if (pi.get("metadata") or {}).get(key) and self.granting(pi["id"]):
                out[pi["id"]] = pi["id"]
        for cs in self.of("checkout.session"):
            if cs.get("mode") == "payment" and (cs.get("metadata") or {}).get(key) \
                    and self.granting(cs["id"]):
                out[cs["id"]] = _oid(cs.get("payment_intent")) or ""
        return out

    def _pi_status(self, pi_id: str) -> str | None:
        return (self.final.get(pi_id) or {}).get("status")

    def paid(self, source: str) -> bool:
        obj = self.final.get(source) or {}
        if obj.get("object") == "checkout.session":
            if "checkout.session.async_payment_failed" in self.types_of[source]:
                return False
            return obj.get("payment_status") in ("paid", "no_payment_required") or \
                self._pi_status(self.purchases.get(source, "")) == "succeeded"
        return obj.get("status") == "succeeded"

    def processing(self, source: str) -> bool:
        return self._pi_status(self.purchases.get(source, "")) == "processing" and \
            not self.paid(source)

    def reversal(self, source: str) -> str | None:
        """Why value bought by `source` must not stay granted: refunded, disputed, failed."""
        pi_id = self.purchases.get(source, "")
        if "checkout.session.async_payment_failed" in self.types_of[source]:
            return "failed"
        pi = self.final.get(pi_id) or {}
        charge_id = _oid(pi.get("latest_charge"))
        for dispute in self.of("dispute"):
            mine = _oid(dispute.get("payment_intent")) == pi_id or \
                (charge_id and _oid(dispute.get("charge")) == charge_id)
            status = str(dispute.get("status") or "")
            if mine and not status.startswith("warning_") and status != "prevented":
                return "disputed"
        refunded = sum(int(r.get("amount") or 0) for r in self.of("refund")
                       if _oid(r.get("payment_intent")) == pi_id and r.get("status") in REFUNDING)
        charge = self.final.get(charge_id or "") or {}
        if pi.get("amount") and (charge.get("refunded") or refunded >= int(pi["amount"])):
            return "refunded"
        types = self.types_of[pi_id] if pi_id else set()
        if pi.get("status") in FAILED_PI and "payment_intent.processing" in types:
            return "failed"
        return None

    def reversal_objects(self, source: str) -> set[str]:
        """Ids whose events carry `source`'s reversal (refunds, disputes, the intent)."""
        pi_id = self.purchases.get(source, "")
        pi = self.final.get(pi_id) or {}
        charge_id = _oid(pi.get("latest_charge"))
        ids = {source, pi_id, charge_id or ""}
        for kind in ("refund", "dispute"):
            for obj in self.of(kind):
                if _oid(obj.get("payment_intent")) == pi_id or \
                        (charge_id and _oid(obj.get("charge")) == charge_id):
                    ids.add(obj["id"])
        return ids - {""}
