"""State differences turned into mismatches: which invariant they break and which event
they are attributed to.

A row is about the Stripe objects it names (in its identity first, then in its fields);
an event touches every object its payload references and, one hop further, what those
reference in the corpus (a charge's PaymentIntent, the PaymentIntent's invoice through its
invoice payment, the customer). The difference is attributed to the last event the
candidate handled that touches the row's first object any event touches — so a shipment
keyed by an invoice that a `charge.refunded` reversed is attributed to `charge.refunded`.
A row naming an event id (an app's processed-event log) is attributed to that event.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tools.recon.mapping import Mapping
from tools.shadow.compare import object_of
from tools.shadow.corpus import Corpus
from tools.shadow.models import Mismatch, StateDiff
from tools.shadow.replay import Capture
from tools.shadow.state import StateView

__all__ = ["Touches", "classify_state", "is_money_field"]

Obj = dict[str, Any]
_ID = re.compile(r"\b((?:[a-z]{2,}_)+[A-Za-z0-9]{8,})\b")
# References a handler may join on; a customer is a leaf (everything of a customer would
# otherwise touch everything else of it).
_REFS = ("customer", "payment_intent", "charge", "latest_charge", "invoice", "subscription",
         "checkout_session", "refund", "dispute", "source_id")
# Without a mapping, a numeric field is money when its name says so.
_MONEY_NAME = re.compile(r"amount|total|price|refund|paid|balance|fee|cost|minor", re.I)


def _oid(value: Any) -> str | None:
    value = value.get("id") if isinstance(value, dict) else value
    return value if isinstance(value, str) and value else None


def _refs(obj: Obj) -> list[str]:
    out = [_oid(obj.get(name)) for name in _REFS]
    out.append(_oid(((obj.get("parent") or {}).get("subscription_details") or {}).get(
        "subscription")))
    out.append(_oid((obj.get("payment") or {}).get("payment_intent")))
    return [i for i in out if i]


class Touches:
    """Which objects each corpus event touches (see the module docstring)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        links: dict[str, set[str]] = defaultdict(set)
        self.direct: list[list[str]] = []
        for event in corpus.events:
            obj = event["data"]["object"] or {}
            ids = [i for i in [_oid(obj.get("id")), *_refs(obj)] if i]
            self.direct.append(ids)
            for a in ids:
                if not a.startswith("cus_"):
                    links[a].update(ids)
        self.by_index = [set(ids).union(*(links[i] for i in ids if not i.startswith("cus_")))
                         for ids in self.direct]
        self.index_of = {e["id"]: n for n, e in enumerate(corpus.events)}

    def last(self, capture: Capture) -> dict[str, Obj]:
        """Object id -> the last event the handler handled that touches it."""
        out: dict[str, Obj] = {}
        for index in capture.handled_order():
            for oid in self.by_index[index]:
                out[oid] = self.corpus.events[index]
        return out


def _row_texts(state: StateView) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (entity, key, _), value in state.items():
        if isinstance(value, str):
            out[(entity, key)].append(value)
    return out


def _row_ids(texts: dict[tuple[str, str], list[str]], entity: str, key: str) -> list[str]:
    ids = _ID.findall(key)
    for value in texts.get((entity, key), []):
        ids += [i for i in _ID.findall(value) if i not in ids]
    return ids


def _power_of_ten(a: object, b: object) -> bool:
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or a == b:
        return False
    big, small = (a, b) if abs(a) > abs(b) else (b, a)
    return any(big // 10**k == small and abs(big) >= 10**k for k in (1, 2, 3) if big)


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
        return True
    except ValueError:
        return False


def is_money_field(mapping: Mapping | None, entity: str, name: str, *values: Any) -> bool:
    """Money by the mapping's field type; without a mapping, by the field's name."""
    spec = mapping.entities.get(entity) if mapping is not None else None
    if spec is not None:
        field = spec.fields.get(name)
        return field is not None and field.type == "money"
    return bool(_MONEY_NAME.search(name)) and any(v is not None for v in values) and \
        all(v is None or _number(v) for v in values)


def _minor(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value) if float(value) == int(float(value)) else None
    except (TypeError, ValueError):
        return None


def classify_state(corpus: Corpus, mapping: Mapping | None, capture: Capture,
                   diffs: list[StateDiff], *, explained: set[str], entitlement_entity: str,
                   touches: Touches | None = None) -> list[Mismatch]:
    """`explained`: objects whose entitlement differences an invariant mismatch already
    reports."""
    touches = touches or Touches(corpus)
    last = touches.last(capture)
    texts = _row_texts(capture.state)
    out: list[Mismatch] = []
    for diff in diffs:
        oid = object_of(diff.key)
        if diff.entity == entitlement_entity and oid in explained:
            continue
        ids = _row_ids(texts, diff.entity, diff.key) or [oid]
        event = next((corpus.events[touches.index_of[i]] for i in ids
                      if i.startswith("evt_") and i in touches.index_of), None)
        about = next((i for i in ids if i in last), ids[0])
        event = event or last.get(about)
        money = is_money_field(mapping, diff.entity, diff.field, diff.primary, diff.candidate)
        if diff.field == "account":
            invariant = "connect_scope"
        elif money and _power_of_ten(_minor(diff.primary), _minor(diff.candidate)):
            invariant = "amounts_exact"
        else:
            invariant = "state_matches_primary"
        amount = currency = None
        p, c = _minor(diff.primary), _minor(diff.candidate)
        if money and (p is not None or c is not None):
            amount = abs((p or 0) - (c or 0))
            currency = ((event or {}).get("data", {}).get("object") or {}).get("currency")
        out.append(Mismatch(
            kind="state", invariant=invariant, object_id=about,
            event_type=event["type"] if event else None, event_id=event["id"] if event else None,
            detail=f"{diff.entity} {diff.key} {diff.field}: primary {diff.primary!r}, "
                   f"candidate {diff.candidate!r}",
            primary=diff.primary, candidate=diff.candidate,
            amount_minor=amount if currency else None, currency=currency))
    return out
