"""Ranking failure modes by how well the tool outputs explain the ticket.

Candidates come only from evidence: a detector finding naming a failure mode, or a
reconciliation discrepancy matching one of the mode's signals (strong) or only its class
(weak). Each candidate is then scored by what the ticket says: objects it names (or their
neighbours, from inspection), its products, and the similarity of its text to the mode's
symptom (MiniLM).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.models import TicketFacts
from agents.offline.catalog import FailureMode

__all__ = ["Candidate", "Evidence", "rank"]

W_SUPPORT, W_SIMILARITY, W_OBJECTS, W_PRODUCTS = 0.40, 0.35, 0.20, 0.05
WEAK = 0.3
# A detector finding tests for its failure mode directly; a discrepancy matching a mode's
# signal is circumstantial (one missing row fits several causes), so it supports less.
CIRCUMSTANTIAL = 0.75


@dataclass
class Evidence:
    """One item a tool returned: a finding or a discrepancy, as the tool rendered it."""

    kind: str  # "finding" | "discrepancy"
    id: str
    doc: dict[str, Any]
    ids: set[str]


@dataclass
class Candidate:
    mode: FailureMode
    support: float = 0.0
    strong: bool = False
    detected: bool = False  # a detector finding names this mode
    items: list[Evidence] = field(default_factory=list)
    similarity: float = 0.0
    objects: float = 0.0
    products: float = 0.0
    score: float = 0.0

    def evidence_ids(self, scope: set[str], limit: int = 6) -> list[str]:
        ordered = sorted(self.items, key=lambda e: (not (e.ids & scope), e.id))
        out: list[str] = []
        for item in ordered[:limit]:
            out.append(item.id)
            out += sorted(i for i in item.ids if i != item.id)[:3]
        return list(dict.fromkeys(out))


def _support(mode: FailureMode, item: Evidence) -> tuple[float, bool]:
    if item.kind == "finding":
        return (1.0, True) if item.doc.get("failure_mode") == mode.id else (0.0, False)
    best = max((s.weight for s in mode.signals if s.matches(item.doc)), default=0.0)
    if best:
        return best, best >= 0.9
    return (WEAK, False) if item.doc.get("class") in mode.classes else (0.0, False)


def rank(modes: Sequence[FailureMode], evidence: Sequence[Evidence], *, ticket: str,
         facts: TicketFacts, scope: set[str],
         embed: Callable[[list[str]], np.ndarray] | None) -> list[Candidate]:
    candidates: dict[str, Candidate] = {}
    for mode in modes:
        for item in evidence:
            weight, strong = _support(mode, item)
            if not weight:
                continue
            cand = candidates.setdefault(mode.id, Candidate(mode=mode))
            cand.items.append(item)
            cand.strong = cand.strong or strong
            cand.detected = cand.detected or item.kind == "finding"
            cand.support = max(cand.support, weight)
    if not candidates:
        return []
    sims = _similarities(modes, ticket, embed)
    lo, hi = min(sims.values()), max(sims.values())
    for cand in candidates.values():
        n = len(cand.items)
        support = min(1.0, cand.support * (0.85 + 0.05 * math.log2(n + 1)))
        if not cand.detected:
            support *= CIRCUMSTANTIAL
        cand.similarity = (sims[cand.mode.id] - lo) / (hi - lo) if hi > lo else 0.0
        cand.objects = 1.0 if any(item.ids & scope for item in cand.items) else 0.0
        cand.products = 1.0 if set(facts.products) & set(cand.mode.products) else 0.0
        cand.score = round(W_SUPPORT * support + W_SIMILARITY * cand.similarity
                           + W_OBJECTS * cand.objects + W_PRODUCTS * cand.products, 4)
    return sorted(candidates.values(), key=lambda c: (-c.score, c.mode.id))


def _similarities(modes: Sequence[FailureMode], ticket: str,
                  embed: Callable[[list[str]], np.ndarray] | None) -> dict[str, float]:
    if embed is None:  # lexical fallback: shared words
        words = set(ticket.lower().split())
        return {m.id: len(words & set(m.symptom.lower().split())) / (len(words) or 1)
                for m in modes}
    vectors = embed([ticket] + [f"{m.symptom} {m.title}" for m in modes])
    sims = vectors[1:] @ vectors[0]
    return {m.id: float(s) for m, s in zip(modes, sims, strict=True)}
