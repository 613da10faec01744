"""Exemplars: one of each object the bulk history makes, produced by the real replica.

A scratch copy of the world's store (catalog only) runs one prototype customer through the
engine — signup, card, subscription, one renewal, cancellation — and keeps the final state of
each object. The bulk builders start from a copy of these (the replica's templates with its
resources' defaults already applied) and set only what differs per customer, so the bulk
rows have exactly the keys and nesting the in-process engine gives them.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.world.api import WorldApi
from sandbox.world.company import CARD
from sandbox.world.config import DAY

Obj = dict[str, Any]


@dataclass(frozen=True)
class Exemplars:
    """JSON text per kind. `new` is a deep copy (``json.loads``); `shallow` copies only the
    top level and shares every nested value with the exemplar, so a builder using it must
    replace (``{**nested, ...}``), never mutate, what it changes below the top level."""

    texts: dict[str, str]
    _docs: dict[str, Obj] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_docs", {k: json.loads(v) for k, v in self.texts.items()})

    def new(self, kind: str) -> Obj:
        return json.loads(self.texts[kind])

    def shallow(self, kind: str) -> Obj:
        return dict(self._docs[kind])


def capture(api: WorldApi, price_id: str, *, seed: int) -> Exemplars:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prototype.sqlite3"
        api.store.save_snapshot(path)
        first = api.store.conn.execute("SELECT coalesce(max(seq), 0) FROM objects").fetchone()[0]
        proto = WorldApi(path, seed=seed ^ 0xB01D, start=api.now())
        try:
            proto.advance_to(api.now())
            cus = proto.post("/v1/customers", {"email": "proto@example.com", "name": "Proto",
                                               "metadata": {"user_id": "proto"}})
            pm = proto.post(f"/v1/payment_methods/{CARD}/attach", {"customer": cus["id"]})
            proto.post(f"/v1/customers/{cus['id']}",
                       {"invoice_settings": {"default_payment_method": pm["id"]}})
            sub = proto.post("/v1/subscriptions", {"customer": cus["id"],
                                                   "items": [{"price": price_id,
                                                              "quantity": 3}]})
            proto.advance_to(sub["items"]["data"][0]["current_period_end"] + 2 * 3600)
            proto.request("DELETE", f"/v1/subscriptions/{sub['id']}")
            proto.advance_to(proto.now() + 3 * DAY)
            texts: dict[str, str] = {}
            for kind, data in proto.store.conn.execute(
                    "SELECT type, data FROM objects WHERE seq > ? ORDER BY seq", (first,)):
                obj = json.loads(data)
                key = kind
                if kind == "invoice":
                    key = f"invoice.{obj['billing_reason']}"
                elif kind == "payment_intent":
                    key = "payment_intent." + ("create" if obj["description"] ==
                                               "Subscription creation" else "cycle")
                elif kind == "balance_transaction":
                    key = f"balance_transaction.{obj['type']}"
                texts.setdefault(key, data)
            return Exemplars(texts)
        finally:
            proto.close()


__all__ = ["Exemplars", "capture"]
