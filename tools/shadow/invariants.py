"""Invariants a handler must keep whatever the delivery does, checked on the state it left
(and, for "nothing granted while processing", right after the events that start a pending
payment). Each violation names the event type it is attributed to: the last event the
handler saw about the object (for reversals: the last reversal event).

Catalogue (ids are stable; titles go into reports):
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tools.recon.adapter import UserSystem
from tools.recon.mapping import Mapping
from tools.shadow.corpus import Corpus
from tools.shadow.replay import Capture
from tools.shadow.state import StateView, read_state
from tools.shadow.truth import REVERSAL_TYPES, Truth

__all__ = ["INVARIANTS", "MATRIX_INVARIANTS", "Violation", "evaluate", "processing_probe"]

INVARIANTS: dict[str, str] = {
    "acknowledged": "every delivery is eventually acknowledged with a 2xx",
    "one_fulfilment": "exactly one fulfilment per paid invoice or purchase",
    "entitlement_follows_subscription":
        "entitlement matches subscription status once events settle",
    "nothing_granted_while_processing": "nothing granted while a payment is processing",
    "refunded_value_revoked": "refunded (disputed, failed) value is revoked",
    "status_follows_stripe": "every row's status is Stripe's latest once events settle",
    "fields_follow_stripe":
        "no row leaves empty a field (link, period, id) that Stripe's latest snapshot fills",
    "amounts_exact": "amounts are stored in the currency's minor units",
    "connect_scope": "rows keep the Connect account their event came from",
    "state_matches_primary": "the candidate leaves the same rows as the primary",
    "billing_matches_legacy": "Stripe bills each customer and period what legacy billed",
}
__doc__ = (__doc__ or "") + "\n".join(f"    {k:34} {v}" for k, v in INVARIANTS.items()) + "\n"
MATRIX_INVARIANTS = ("acknowledged", "one_fulfilment", "entitlement_follows_subscription",
                     "nothing_granted_while_processing", "refunded_value_revoked",
                     "status_follows_stripe", "fields_follow_stripe")
# Field types whose emptiness is decidable from the snapshot alone (refs need the other
# row, money and flags have their own invariants or legitimate defaults).
_FILLED_TYPES = frozenset({"string", "int", "timestamp"})
_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Violation(BaseModel):
    invariant: str
    source: str
    event_type: str | None
    event_id: str | None
    detail: str
    amount_minor: int | None = None
    currency: str | None = None


def _active(state: StateView, entity: str) -> dict[str, list[str]]:
    """source id -> features of its active entitlement rows (one entry per row)."""
    rows: dict[str, dict[str, Any]] = defaultdict(dict)
    for (ent, key, name), value in state.items():
        if ent == entity:
            rows[key][name] = value
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows.values():
        if row.get("active"):
            out[str(row.get("source_id"))].append(str(row.get("feature")))
    return out


class _Seen:
    """Last event the handler saw about each object, in the order it saw them."""

    def __init__(self, corpus: Corpus, capture: Capture) -> None:
        self.last: dict[str, dict[str, Any]] = {}
        self.reversal: dict[str, dict[str, Any]] = {}
        for index in capture.handled_order():
            event = corpus.events[index]
            oid = (event["data"]["object"] or {}).get("id")
            if oid:
                self.last[oid] = event
                if event["type"].startswith(REVERSAL_TYPES):
                    self.reversal[oid] = event

    def about(self, *ids: str, reversal: bool = False) -> dict[str, Any] | None:
        table = self.reversal if reversal else self.last
        found = [table[i] for i in ids if i in table]
        return max(found, key=lambda e: int(e["created"])) if found else None


def _money(truth: Truth, source: str) -> tuple[int | None, str | None]:
    obj = truth.final.get(truth.purchases.get(source, "")) or truth.final.get(source) or {}
    amount = obj.get("amount") if obj.get("object") == "payment_intent" else obj.get(
        "amount_total")
    return (int(amount) if amount is not None else None), obj.get("currency")


def _at(obj: Any, path: str) -> Any:
    """The value at a mapping path (``a.b[0].c``); None past an unexpanded id."""
    for name, index in _PATH.findall(path):
        if index:
            obj = obj[int(index)] if isinstance(obj, list) and int(index) < len(obj) else None
        else:
            obj = obj.get(name) if isinstance(obj, dict) else None
        if obj is None:
            return None
    return obj


def _empty_fields(truth: Truth, state: StateView, mapping: Mapping) -> list[tuple[str, str]]:
    """(row key, field) the handler left NULL although Stripe's final snapshot fills it."""
    out = []
    for (entity, key, name), value in state.items():
        spec = mapping.entities.get(entity)
        field = spec.fields.get(name) if spec else None
        final = truth.final.get(key)
        if value is not None or spec is None or field is None or final is None or \
                not field.stripe or field.type not in _FILLED_TYPES or \
                final.get("object") != spec.stripe_object:
            continue
        if _at(final, field.stripe) is not None:
            out.append((key, name))
    return out


def evaluate(corpus: Corpus, truth: Truth, capture: Capture, plan_types: dict[int, str],
             mapping: Mapping | None = None) -> list[Violation]:
    """Every invariant on one capture; `plan_types` maps plan positions to event types.
    The invariants past `acknowledged` are written for the canonical model (entitlements
    read through a mapping): without a `mapping` only `acknowledged` is checked."""
    seen = _Seen(corpus, capture)
    out: list[Violation] = []

    def add(inv: str, source: str, detail: str, *ids: str, reversal: bool = False,
            money: bool = False) -> None:
        event = seen.about(*(ids or (source,)), reversal=reversal)
        amount, currency = _money(truth, source) if money else (None, None)
        out.append(Violation(invariant=inv, source=source, detail=detail,
                             event_type=event["type"] if event else None,
                             event_id=event["id"] if event else None,
                             amount_minor=amount, currency=currency))

    # Per event, not per delivery: a planned retry acknowledges its failed first attempt.
    acknowledged = {a.event_id for a in capture.attempts if a.note is None and
                    a.status is not None and 200 <= a.status < 300}
    reported: set[str] = set()
    for a in capture.first().values():
        if a.event_id not in acknowledged and a.event_id not in reported:
            reported.add(a.event_id)
            event = corpus.events[a.index]
            out.append(Violation(invariant="acknowledged", source=a.event_id,
                                 event_type=plan_types[a.position], event_id=a.event_id,
                                 detail=f"{event['type']} never got a 2xx "
                                        f"(last: {a.status or 'timeout'})"))
    if not capture.state or mapping is None:
        return out
    active = _active(capture.state, truth.policy.entitlement_entity)
    for source, features in active.items():
        extra = {f for f in features if features.count(f) > 1}
        if extra:
            add("one_fulfilment", source, f"{len(features)} active grants "
                f"({', '.join(sorted(extra))}) from {source}", money=True)
    for source in truth.purchases:
        if truth.paid(source) and truth.reversal(source) is None and not active.get(source):
            add("one_fulfilment", source, f"{source} is paid but nothing was granted",
                money=True)
        if truth.processing(source) and active.get(source):
            add("nothing_granted_while_processing", source,
                f"{source} granted while its payment is still processing", money=True)
        reason = truth.reversal(source)
        if reason and active.get(source):
            add("refunded_value_revoked", source, f"{source} is {reason} but still granted",
                *sorted(truth.reversal_objects(source)), reversal=True, money=True)
    for sub, (entitled, names) in truth.subscriptions.items():
        features = active.get(sub, [])
        if entitled and not any(f in names for f in features):
            add("entitlement_follows_subscription", sub,
                f"{sub} is entitled but its plan ({'/'.join(sorted(names))}) is not granted")
        elif entitled and any(f not in names for f in features):
            add("entitlement_follows_subscription", sub,
                f"{sub} keeps access to an old plan ({', '.join(sorted(features))})")
        elif not entitled and features:
            add("entitlement_follows_subscription", sub,
                f"{sub} is {(truth.final[sub] or {}).get('status')} but still grants "
                f"{', '.join(sorted(features))}")
    for (_entity, key, name), value in capture.state.items():
        final = truth.final.get(key)
        if name == "status" and final is not None and "status" in final and \
                value is not None and value != final["status"]:
            add("status_follows_stripe", key, f"{key} is {value!r} locally, "
                f"{final['status']!r} in Stripe")
    for key, name in _empty_fields(truth, capture.state, mapping):
        add("fields_follow_stripe", key, f"{key} {name} is empty locally, set in Stripe")
    for name, source, event_id in capture.probes:
        event = next((e for e in corpus.events if e["id"] == event_id), None)
        amount, currency = _money(truth, source)
        out.append(Violation(invariant=name, source=source, event_id=event_id,
                             event_type=event["type"] if event else None,
                             detail=f"{source} granted right after {event_id} while its "
                                    "payment was processing",
                             amount_minor=amount, currency=currency))
    return out


def processing_probe(truth: Truth, user: UserSystem) -> Callable[[dict[str, Any], Capture],
                                                                  None]:
    """After an event that starts a pending payment, nothing may be granted from it —
    unless the handler has already seen the payment settle (late, reordered events)."""
    entity = truth.policy.entitlement_entity
    settled: set[str] = set()
    settling = ("payment_intent.succeeded", "payment_intent.payment_failed",
                "payment_intent.canceled", "checkout.session.async_payment_succeeded",
                "checkout.session.async_payment_failed")

    def probe(event: dict[str, Any], capture: Capture) -> None:
        obj = event["data"]["object"] or {}
        if event["type"] in settling:
            settled.add(obj.get("id"))
            return
        sources: list[str] = []
        if event["type"] == "payment_intent.processing" and obj.get("id") in truth.purchases:
            sources = [obj["id"], *truth.sessions_of.get(obj["id"], [])]
        elif event["type"] == "checkout.session.completed" and \
                obj.get("payment_status") == "unpaid" and obj.get("id") in truth.purchases:
            sources = [obj["id"]]
        pending = [s for s in sources if s not in settled and
                   truth.purchases.get(s) not in settled]
        if not pending:
            return
        active = _active(read_state(user, [entity]), entity)
        for source in pending:
            if active.get(source):
                capture.probes.append(("nothing_granted_while_processing", source,
                                       event["id"]))

    return probe
