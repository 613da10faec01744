"""Primary vs candidate: HTTP answers and resulting state, minus noise.

Noise is what differs between two runs of the primary on the same plan (timestamps written
with the wall clock, generated ids). The engine runs primary, candidate, primary in that
order, so a value derived from the time of processing either differs between the two
primary runs (noise, dropped) or is the same in all three.
"""

from __future__ import annotations

from typing import Any

from tools.recon.mapping import Mapping
from tools.shadow.corpus import Corpus
from tools.shadow.models import Mismatch, Noise, StateDiff
from tools.shadow.replay import Capture
from tools.shadow.state import StateView

__all__ = ["Diffs", "diff_runs", "diff_under_fault", "object_of"]

Key = tuple[Any, ...]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix or "$": value}


def _http(capture: Capture) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    for pos, a in capture.first().items():
        out[("status", pos)] = a.status
        for path, value in _flatten(a.body).items():
            out[("body", pos, path)] = value
    return out


def _rows(state: StateView) -> dict[Key, Any]:
    out: dict[Key, Any] = dict(state)
    for entity, key, _ in state:
        out[("row", entity, key)] = True
    return out


def _differ(a: dict[Key, Any], b: dict[Key, Any]) -> set[Key]:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def object_of(key: str) -> str:
    """The Stripe object a state row identity is about (``src|feature#2`` -> ``src``)."""
    return key.split("|", 1)[0].split("#", 1)[0]


def _signature(key: Key) -> Key:
    """What a noisy key says about every run: this field of this entity (any row), this
    body path (any delivery), the status, or the rows of this entity."""
    if key[0] == "status":
        return ("status",)
    if key[0] == "body":
        return ("body", key[2])
    if key[0] == "row":
        return ("row", key[1])
    return ("field", key[0], key[2])


class Diffs:
    def __init__(self) -> None:
        self.http: list[Mismatch] = []
        self.state: list[StateDiff] = []
        self.noise = Noise()
        self.noisy: set[Key] = set()  # signatures (`_signature`) of the primary's noise


def diff_runs(corpus: Corpus, mapping: Mapping | None, first: Capture, candidate: Capture,
              second: Capture) -> Diffs:
    out = Diffs()
    a, b, c = _http(first), _http(second), _http(candidate)
    sa, sb, sc = _rows(first.state), _rows(second.state), _rows(candidate.state)
    noisy = _differ(a, b) | _differ(sa, sb)
    out.noise.primary_vs_primary = len(noisy)
    found = _differ(a, c) | _differ(sa, sc)
    out.noise.removed = len(found & noisy)
    out.noisy = {_signature(k) for k in noisy}
    out.noise.fields = sorted({f"body:{k[2]}" if k[0] == "body" else
                               ("status" if k[0] == "status" else
                                f"{k[0]}.{k[2]}" if k[0] != "row" else f"{k[1]}(row)")
                               for k in noisy})
    _explain(out, corpus, first, candidate, found - noisy)
    return out


def diff_under_fault(corpus: Corpus, primary: Capture, candidate: Capture,
                     noisy: set[Key]) -> Diffs:
    """The candidate against the primary under the same fault (same plan): HTTP outcomes
    and state, minus the noise the clean run measured (by field, not by row: a fault
    moves rows and deliveries, the noisy fields stay noisy)."""
    out = Diffs()
    a, c = _http(primary), _http(candidate)
    sa, sc = _rows(primary.state), _rows(candidate.state)
    found = _differ(a, c) | _differ(sa, sc)
    kept = {k for k in found if _signature(k) not in noisy}
    out.noise.removed = len(found) - len(kept)
    _explain(out, corpus, primary, candidate, kept)
    return out


def _explain(out: Diffs, corpus: Corpus, first: Capture, candidate: Capture,
             found: set[Key]) -> None:
    a, c = _http(first), _http(candidate)
    sa, sc = _rows(first.state), _rows(candidate.state)
    first_attempts = candidate.first()
    for key in sorted(found, key=repr):
        if key[0] in ("status", "body"):
            pos = key[1]
            attempt = first_attempts.get(pos) or first.first()[pos]
            kind = "http_status" if key[0] == "status" else "http_body"
            what = "status" if kind == "http_status" else f"body {key[2]}"
            out.http.append(Mismatch(
                kind=kind, invariant="acknowledged" if kind == "http_status" else
                "state_matches_primary", event_type=attempt.event_type,
                event_id=attempt.event_id, object_id=corpus.events[attempt.index]["data"][
                    "object"].get("id"), detail=f"{attempt.event_type}: {what} differs",
                primary=a.get(key), candidate=c.get(key)))
        elif key[0] == "row":
            _, entity, row = key
            out.state.append(StateDiff(entity=entity, key=row, field="(row)",
                                       primary="present" if sa.get(key) else "absent",
                                       candidate="present" if sc.get(key) else "absent"))
        else:
            entity, row, name = key
            if sa.get(("row", entity, row)) and sc.get(("row", entity, row)):
                out.state.append(StateDiff(entity=entity, key=row, field=name,
                                           primary=sa.get(key), candidate=sc.get(key)))
