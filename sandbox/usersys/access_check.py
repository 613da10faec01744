"""Does the entitlements table say what Stripe's final state says it should?

Entitlements have no Stripe object, so `agreement.compare_with_stripe` cannot compare them
field by field. This module derives the access the policy in `entitlements.py` (documented in
mapping.yaml) grants from Stripe's final objects and compares it with the active rows:

- a subscription of the platform grants its plan while ``trialing``, ``active``, ``past_due``
- a paid one-off purchase (Checkout Session with ``payment_status=paid``, or a succeeded
  PaymentIntent made without Checkout) grants ``metadata.feature`` unless it was reversed:
  a full refund was issued (a refund that fails later does not give access back — the
  company leaves that to support), or a dispute other than an inquiry or prevented exists
- connected-account objects grant nothing

Every difference is keyed by the entitlement's source (the Stripe id it was granted from).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.usersys.entitlements import ENTITLED_STATUSES, withdraws_funds
from sandbox.usersys.models import Entitlement

Obj = dict[str, Any]
# Refunds that were issued for money going back (a failure later doesn't restore access).
_ISSUED = ("pending", "succeeded", "requires_action", "failed")


class AccessDiff(BaseModel):
    source_id: str
    feature: str
    kind: Literal["missing_access", "extra_access", "duplicate_access"]
    local_active: int


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value or None


def _reversed(pi_id: str | None, amount: int, refunds: dict[str, list[Obj]],
              disputes: dict[str, list[Obj]]) -> bool:
    if not pi_id:
        return False
    if any(withdraws_funds(d.get("status")) for d in disputes.get(pi_id, [])):
        return True
    issued = sum(int(r.get("amount") or 0) for r in refunds.get(pi_id, [])
                 if r.get("status") in _ISSUED)
    return bool(amount) and issued >= amount


def expected_access(objects: Iterable[Obj], *, connected: Container[str] = ()) -> set[
        tuple[str, str]]:
    """(source id, feature) pairs the policy grants from these final Stripe objects."""
    platform = [o for o in objects if o.get("id") not in connected]
    refunds: dict[str, list[Obj]] = {}
    disputes: dict[str, list[Obj]] = {}
    intents: dict[str, Obj] = {}
    for obj in platform:
        kind = obj.get("object")
        if kind == "refund" and _id(obj.get("payment_intent")):
            refunds.setdefault(_id(obj["payment_intent"]), []).append(obj)  # type: ignore[arg-type]
        elif kind == "dispute" and _id(obj.get("payment_intent")):
            disputes.setdefault(_id(obj["payment_intent"]), []).append(obj)  # type: ignore[arg-type]
        elif kind == "payment_intent":
            intents[obj["id"]] = obj
    granted: set[tuple[str, str]] = set()
    for obj in platform:
        kind = obj.get("object")
        feature = (obj.get("metadata") or {}).get("feature")
        if kind == "subscription" and obj.get("status") in ENTITLED_STATUSES:
            items = (obj.get("items") or {}).get("data") or [{}]
            price = items[0].get("price") or {}
            plan = price.get("lookup_key") or price.get("id") if isinstance(price, dict) else price
            if plan:
                granted.add((obj["id"], plan))
        elif (kind == "checkout.session" and obj.get("mode") == "payment" and feature
              and obj.get("payment_status") == "paid"):
            pi_id = _id(obj.get("payment_intent"))
            amount = int((intents.get(pi_id or "") or {}).get("amount") or 0)
            if not _reversed(pi_id, amount, refunds, disputes):
                granted.add((obj["id"], feature))
        elif kind == "payment_intent" and feature and obj.get("status") == "succeeded":
            if not _reversed(obj["id"], int(obj.get("amount") or 0), refunds, disputes):
                granted.add((obj["id"], feature))
    return granted


def compare_access(session: Session, objects: Iterable[Obj], *,
                   connected: Container[str] = ()) -> list[AccessDiff]:
    """Missing, extra and duplicated active entitlements, sorted by source."""
    expected = expected_access(objects, connected=connected)
    active = Counter(session.execute(
        select(Entitlement.source_id, Entitlement.feature).where(Entitlement.active)).all())
    local = {(source, feature): n for (source, feature), n in active.items()}
    diffs: list[AccessDiff] = []
    for key in sorted(expected | set(local)):
        n = local.get(key, 0)
        if key in expected and n == 0:
            kind: Literal["missing_access", "extra_access", "duplicate_access"] = (
                "missing_access")
        elif key not in expected:
            kind = "extra_access"
        elif n > 1:
            kind = "duplicate_access"
        else:
            continue
        diffs.append(AccessDiff(source_id=key[0], feature=key[1], kind=kind, local_active=n))
    return diffs


__all__ = ["AccessDiff", "compare_access", "expected_access"]
