"""Helpers for Pantry Box's own tests (no shadow tool involved).

- `record_corpus` runs the scenario on a sandbox replica and reads the events back.
- `sign` / `deliver_all` post signed events the way Stripe does (raw body,
  `Stripe-Signature: t=...,v1=...`, signed when sent).
- `snapshot` reads the app's tables without the columns that differ between any two runs
  (wall-clock times, surrogate ids).
- `faulted` is a small stand-in for delivery faults, used only to check this app's
  answer key against its own code: about half of the events of each type are affected.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe
from sqlalchemy import create_engine, text

from .handlers import HANDLERS

Obj = dict[str, Any]
FAULTS = ("none", "duplicate", "reorder", "delay", "retry_after_5xx", "timeout",
          "signature_skew", "api_version")
VOLATILE = {"id", "created_at", "processed_at"}
TABLES = ("plan", "household", "box_subscription", "paid_invoice", "invoice_payment",
          "gift_order", "shipment", "dunning_notice", "refund_note", "processed_event")


# -- the corpus -------------------------------------------------------------------------
def events_of(client: stripe.StripeClient) -> list[Obj]:
    """Every event on the server, oldest first, as the JSON Stripe would send."""
    listed = client.v1.events.list(params={"limit": 100}).auto_paging_iter()
    return [json.loads(str(event)) for event in reversed(list(listed))]


def record_corpus(db_path: Path, seed: int = 1) -> tuple[list[Obj], dict[str, list[Obj]]]:
    """Run the scenario; return its events and the server's final objects by kind."""
    from sandbox.replica.testing import running_replica

    from .scenario import drive

    with running_replica(db_path) as replica:
        client = replica.client()
        drive(client, seed=seed, advance_clock=replica.admin.advance_clock)
        truth = {}
        for kind, lister in (("customers", client.v1.customers),
                             ("subscriptions", client.v1.subscriptions),
                             ("invoices", client.v1.invoices),
                             ("checkout_sessions", client.v1.checkout.sessions),
                             ("charges", client.v1.charges),
                             ("payment_intents", client.v1.payment_intents)):
            params: Obj = {"limit": 100}
            if kind == "subscriptions":
                params["status"] = "all"
            truth[kind] = [json.loads(str(o))
                           for o in lister.list(params=params).auto_paging_iter()]
        return events_of(client), truth


# -- delivery ---------------------------------------------------------------------------
def sign(body: str, secret: str, *, skew: int = 0) -> str:
    ts = int(time.time()) + skew
    return f"t={ts},v1={stripe.WebhookSignature._compute_signature(f'{ts}.{body}', secret)}"


@dataclass
class Delivery:
    event: Obj
    skew: int = 0
    old_shape: bool = False

    def body(self) -> str:
        return json.dumps(old_shape(self.event) if self.old_shape else self.event)


def deliver_all(post: Callable[[str, dict[str, str]], int], deliveries: Iterable[Delivery],
                secret: str) -> list[int]:
    statuses = []
    for d in deliveries:
        body = d.body()
        statuses.append(post(body, {"Stripe-Signature": sign(body, secret, skew=d.skew),
                                    "Content-Type": "application/json"}))
    return statuses


def old_shape(event: Obj) -> Obj:
    """The event as an endpoint on an API version before 2025-03-31 would get it."""
    event = copy.deepcopy(event)
    event["api_version"] = "2024-06-20"
    obj = event["data"]["object"]
    if obj.get("object") == "invoice":
        details = (obj.pop("parent", None) or {}).get("subscription_details") or {}
        obj["subscription"] = details.get("subscription")
        obj["subscription_details"] = {"metadata": details.get("metadata") or {}}
    elif obj.get("object") == "subscription":
        items = (obj.get("items") or {}).get("data") or []
        for n, item in enumerate(items):
            start, end = item.pop("current_period_start", None), item.pop(
                "current_period_end", None)
            if n == 0:
                obj["current_period_start"], obj["current_period_end"] = start, end
    return event


# -- the app's state --------------------------------------------------------------------
def snapshot(db_url: str) -> dict[str, list[tuple]]:
    engine = create_engine(db_url)
    try:
        out = {}
        with engine.connect() as conn:
            for table in TABLES:
                rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
                out[table] = sorted(
                    (tuple(sorted((k, v) for k, v in row.items() if k not in VOLATILE))
                     for row in rows), key=repr)
        return out
    finally:
        engine.dispose()


def rows(snap: dict[str, list[tuple]], table: str) -> list[dict[str, Any]]:
    return [dict(row) for row in snap[table]]


# -- a stand-in for delivery faults (self-check of the answer key only) -----------------
def handled(events: list[Obj]) -> list[Obj]:
    return [e for e in events if e["type"] in HANDLERS]


def faulted(events: list[Obj], fault: str, seed: int) -> list[Delivery]:
    rng = random.Random(f"{fault}:{seed}")
    by_type: dict[str, list[int]] = defaultdict(list)
    for n, event in enumerate(events):
        by_type[event["type"]].append(n)
    hit: set[int] = set()
    for indices in by_type.values():
        hit.update(rng.sample(indices, (len(indices) + 1) // 2 if len(indices) > 1
                              else rng.randint(0, 1)))
    placed: list[tuple[float, int, Delivery]] = []
    size = len(events)
    for n, event in enumerate(events):
        if n not in hit:
            placed.append((n, 0, Delivery(event)))
        elif fault == "none":
            placed.append((n, 0, Delivery(event)))
        elif fault == "duplicate":
            placed.append((n, 0, Delivery(event)))
            placed.append((n + rng.randint(0, 10) + 0.5, 1, Delivery(event)))
        elif fault == "reorder":
            placed.append((rng.uniform(-1, size), 0, Delivery(event)))
        elif fault == "delay":
            placed.append((n + rng.randint(1, 40) + 0.5, 0, Delivery(event)))
        elif fault == "retry_after_5xx":
            placed.append((n + rng.randint(5, 60) + 0.5, 0, Delivery(event)))
        elif fault == "timeout":
            placed.append((n, 0, Delivery(event)))
            placed.append((n + rng.randint(5, 60) + 0.5, 1, Delivery(event)))
        elif fault == "signature_skew":
            placed.append((n, 0, Delivery(event, skew=rng.randint(-240, 240))))
        elif fault == "api_version":
            placed.append((n, 0, Delivery(event, old_shape=True)))
        else:
            raise ValueError(fault)
    placed.sort(key=lambda p: (p[0], p[1]))
    return [d for _, _, d in placed]
