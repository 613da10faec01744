"""Run the rule evaluators over an architecture and join the outcomes with the patterns'
checklists (severity, item text, recommendation, references)."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.patterns import Pattern
from knowledge.review.model import Architecture
from knowledge.review.report import SEVERITY_ORDER, MatchedPattern, ReviewReport, Violation
from knowledge.review.rules import evaluate

__all__ = ["review_architecture"]


def review_architecture(arch: Architecture, patterns: Sequence[Pattern]) -> ReviewReport:
    outcomes = evaluate(arch)
    matched: list[MatchedPattern] = []
    violations: dict[str, Violation] = {}
    for pattern in patterns:
        evaluated = [c for c in pattern.checks if c in outcomes]
        if not evaluated:
            continue
        bad = [c for c in evaluated if outcomes[c].violated]
        matched.append(MatchedPattern(
            id=pattern.id, title=pattern.title, violated=bad,
            passed=[c for c in evaluated if not outcomes[c].violated],
            to_verify=[c for c in pattern.checks if c not in outcomes]))
        for item in pattern.checklist:
            if item.check not in bad:
                continue
            known = violations.get(item.check)
            if known is None:
                violations[item.check] = Violation(
                    check=item.check, severity=item.severity, item=item.text,
                    evidence=outcomes[item.check].evidence, patterns=[pattern.id],
                    recommendation=pattern.summary())
            else:
                known.patterns.append(pattern.id)
                if SEVERITY_ORDER[item.severity] < SEVERITY_ORDER[known.severity]:
                    known.severity = item.severity
    ordered = sorted(violations.values(), key=lambda v: (SEVERITY_ORDER[v.severity], v.check))
    by_id = {p.id: p for p in patterns}
    references: list[str] = []
    for v in ordered:
        for pid in v.patterns:
            for ref in by_id[pid].references:
                if ref not in references:
                    references.append(ref)
    matched.sort(key=lambda m: (-len(m.violated), m.id))
    return ReviewReport(
        architecture=arch.name, products=arch.products, matched_patterns=matched,
        violations=ordered, passed=sorted(c for c, o in outcomes.items() if not o.violated),
        references=references)
