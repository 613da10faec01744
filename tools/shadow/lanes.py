"""Delivery lanes: a plan split so that unrelated events may be delivered concurrently while
every event keeps its order relative to every event it could interact with.

Two events are related when their objects reference each other, directly or through a
chain (a refund → its PaymentIntent → its customer → the customer's subscription and
invoices). Related events share a lane; lanes run in parallel. Stripe itself guarantees no
order at all, so this is stricter than production delivery; it only gives up the
cross-customer interleaving of a sequential replay, which a handler must not depend on.
"""

from __future__ import annotations

from typing import Any

from tools.shadow.corpus import Corpus
from tools.shadow.faults import Delivery

__all__ = ["split_lanes"]

# Fields holding the id of another object the handler may join on.
_REFS = ("customer", "payment_intent", "charge", "latest_charge", "invoice", "subscription",
         "source_id", "checkout_session")


def _ids(obj: dict[str, Any]) -> list[str]:
    out = [obj.get("id")]
    for name in _REFS:
        value = obj.get(name)
        out.append(value.get("id") if isinstance(value, dict) else value)
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    out.append(parent.get("subscription"))
    return [i for i in out if isinstance(i, str) and i]


def split_lanes(corpus: Corpus, plan: list[Delivery], lanes: int) -> list[list[int]]:
    """Plan positions per lane (each lane in plan order), at most `lanes` non-empty lanes."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    roots: list[str] = []
    for event in corpus.events:
        ids = _ids(event["data"]["object"] or {}) or [event["id"]]
        head = find(ids[0])
        for other in ids[1:]:
            root = find(other)
            if root != head:
                parent[root] = head
        roots.append(ids[0])
    group: dict[str, int] = {}
    out: list[list[int]] = [[] for _ in range(max(1, lanes))]
    for pos, d in enumerate(plan):
        root = find(roots[d.index])
        # Round-robin by first appearance spreads groups evenly and deterministically.
        lane = group.setdefault(root, len(group) % len(out))
        out[lane].append(pos)
    return [lane for lane in out if lane]
