"""State differences turned into mismatches: which invariant they break and which event
they are attributed to (the last event the candidate saw about the row's object)."""

from __future__ import annotations

from tools.recon.mapping import Mapping
from tools.shadow.compare import object_of
from tools.shadow.corpus import Corpus
from tools.shadow.models import Mismatch, StateDiff
from tools.shadow.replay import Capture

__all__ = ["classify_state"]


def _power_of_ten(a: object, b: object) -> bool:
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or a == b:
        return False
    big, small = (a, b) if abs(a) > abs(b) else (b, a)
    return any(big // 10**k == small and abs(big) >= 10**k for k in (1, 2, 3) if big)


def classify_state(corpus: Corpus, mapping: Mapping, capture: Capture, diffs: list[StateDiff],
                   *, explained: set[str], entitlement_entity: str) -> list[Mismatch]:
    """`explained`: objects whose entitlement differences an invariant mismatch already
    reports."""
    last: dict[str, dict] = {}
    for index in capture.handled_order():
        event = corpus.events[index]
        oid = (event["data"]["object"] or {}).get("id")
        if oid:
            last[oid] = event
    out: list[Mismatch] = []
    for diff in diffs:
        oid = object_of(diff.key)
        if diff.entity == entitlement_entity and oid in explained:
            continue
        spec = (mapping.entities.get(diff.entity) or None)
        field = spec.fields.get(diff.field) if spec else None
        currency = None
        amount = None
        if diff.field == "account":
            invariant = "connect_scope"
        elif field is not None and field.type == "money" and \
                _power_of_ten(diff.primary, diff.candidate):
            invariant = "amounts_exact"
        else:
            invariant = "state_matches_primary"
        if field is not None and field.type == "money" and isinstance(diff.primary, int) \
                and isinstance(diff.candidate, int):
            amount = abs(diff.primary - diff.candidate)
            cur_obj = (last.get(oid) or {}).get("data", {}).get("object", {})
            currency = cur_obj.get("currency")
        event = last.get(oid)
        out.append(Mismatch(
            kind="state", invariant=invariant, object_id=oid,
            event_type=event["type"] if event else None, event_id=event["id"] if event else None,
            detail=f"{diff.entity} {diff.key} {diff.field}: primary {diff.primary!r}, "
                   f"candidate {diff.candidate!r}",
            primary=diff.primary, candidate=diff.candidate,
            amount_minor=amount if currency else None, currency=currency))
    return out
