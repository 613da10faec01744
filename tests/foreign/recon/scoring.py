"""Scoring a reconciliation run against a foreign system's answer key.

An answer-key entry names a class, the Stripe id and the local row(s) (``table``, ``key``:
one key or several joined by ","). A finding matches an entry of the same class when
- WEBHOOK_GAP: its evidence shares an event with the entry's events;
- otherwise: the Stripe ids are equal, or (no Stripe id on one side) the finding's local
  row is one the entry names.
Each entry is matched at most once; a finding that matches nothing is a false positive,
except that findings on a Stripe object the key lists under another class are counted
apart as "collateral" (a consequence the key's author did not list, e.g. a refund's
effect on a second table) and reported, not hidden.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.recon.models import ReconRun

__all__ = ["Score", "score"]


@dataclass
class Score:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    collateral: Counter[str] = field(default_factory=Counter)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def classes(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def precision(self, cls: str) -> float:
        found = self.tp[cls] + self.fp[cls]
        return self.tp[cls] / found if found else 1.0

    def recall(self, cls: str) -> float:
        keyed = self.tp[cls] + self.fn[cls]
        return self.tp[cls] / keyed if keyed else 1.0

    def table(self, title: str) -> str:
        lines = [title, f"{'class':32} {'key':>4} {'tp':>4} {'fp':>4} {'fn':>4} "
                 f"{'prec':>6} {'recall':>6}"]
        for cls in self.classes():
            lines.append(f"{cls:32} {self.tp[cls] + self.fn[cls]:4d} {self.tp[cls]:4d} "
                         f"{self.fp[cls]:4d} {self.fn[cls]:4d} {self.precision(cls):6.2f} "
                         f"{self.recall(cls):6.2f}")
        if self.collateral:
            lines.append(f"collateral (same Stripe object as a keyed entry): "
                         f"{dict(self.collateral)}")
        return "\n".join(lines)


def _keys(entry: dict[str, Any]) -> set[str]:
    local = entry.get("local") or {}
    if not local.get("key"):
        return set()
    return {f"{local['table']}:{k}" for k in str(local["key"]).split(",")}


def score(run: ReconRun, key: dict[str, Any]) -> Score:
    out = Score()
    entries = list(key["planted"])
    used = [False] * len(entries)
    keyed_ids = {e["stripe_id"] for e in entries if e.get("stripe_id")}
    for d in run.discrepancies:
        cls = d.class_.value
        hit = None
        for i, e in enumerate(entries):
            if used[i] or e["class"] != cls:
                continue
            if cls == "WEBHOOK_GAP":
                if set(d.evidence.stripe) & set(e.get("events") or []):
                    hit = i
                    break
            elif e.get("stripe_id") and d.stripe_id == e["stripe_id"]:
                hit = i
                break
            elif d.local_key and d.local_key in _keys(e):
                hit = i
                break
        if hit is not None:
            used[hit] = True
            out.tp[cls] += 1
        elif d.stripe_id in keyed_ids:
            out.collateral[cls] += 1
        else:
            out.fp[cls] += 1
            out.false.append(f"{cls} {d.entity} {d.stripe_id} {d.local_key}: {d.reason}")
    for i, e in enumerate(entries):
        if not used[i]:
            out.fn[e["class"]] += 1
            out.missed.append(e)
    return out
