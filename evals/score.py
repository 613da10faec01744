"""Scorers. `score_case(run, expected)` sees the answer and the expectation as two separate
arguments and compares them; it never looks anything up by scenario id, so a scorer cannot
pass a case by knowing which case it is.

Fabrication: every Stripe-style id anywhere in the answer, and every amount (a number of two
or more digits) in its data-bearing text, must appear as a token in that run's tool
outputs. What the graph's verification struck before the answer was shown (ids replaced by
"[unverified id]", actions dropped for naming ids no tool returned) counts too: a model that
invents ids is caught whether or not the guard cleaned up after it.

Citations: the answer cites evidence, every cited id came out of a tool, and the kinds the
scenario requires (finding, discrepancy, stripe_object) are among them.
"""

from __future__ import annotations

import json
import re
from statistics import median
from typing import Any

from pydantic import BaseModel, Field

from evals.runner import CaseRun
from evals.scenario import Expected

__all__ = ["CaseScore", "Diff", "SuiteScore", "aggregate", "score_case"]

_ID = re.compile(r"\b[a-z]{2,8}(?:_test|_live)?_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{6,}"
                 r"(?::\d+)?\b")
_NUMBER = re.compile(r"(?<![\w.:/-])\d{2,}(?![\w:/-])")
_NOT_AMOUNTS = re.compile(r"FM-\d+|\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?|\d+\.\d+")
NO_DEFECT = ("no_defect_found", "cannot_prove")


class Diff(BaseModel):
    field: str
    expected: Any
    got: Any


class CaseScore(BaseModel):
    id: str
    category_ok: bool | None = Field(description="None: the scenario does not score category")
    failure_mode_ok: bool
    escalated: bool
    must_escalate: bool
    fabricated: list[str] = Field(default_factory=list)
    bad_citations: list[str] = Field(default_factory=list)
    missing_kinds: list[str] = Field(default_factory=list)
    forbidden_hits: list[str] = Field(default_factory=list)
    tool_calls: int = 0
    latency_s: float = 0.0
    tokens: int = 0
    diffs: list[Diff] = Field(default_factory=list)

    @property
    def citations_ok(self) -> bool:
        return not self.bad_citations and not self.missing_kinds

    @property
    def passed(self) -> bool:
        return (self.failure_mode_ok and self.category_ok is not False
                and self.escalated == self.must_escalate and not self.fabricated
                and self.citations_ok and not self.forbidden_hits)


class _Outputs:
    """The tokens a run's tools returned, and which ids are findings / discrepancies."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        results = [c.get("result") for c in calls]
        text = json.dumps(results)
        self.ids = set(_ID.findall(text))
        self.strings: set[str] = set()
        _leaves(results, self.strings)
        self.numbers = set(re.findall(r"\d+", text))
        self.findings: set[str] = set()
        self.discrepancies: set[str] = set()
        for call in calls:
            data = (call.get("result") or {}).get("data")
            if not isinstance(data, dict):
                continue
            if call.get("name") == "run_checks":
                self.findings |= {f["id"] for f in data.get("findings", [])}
            elif call.get("name") == "run_reconciliation":
                self.discrepancies |= {d["id"] for d in data.get("discrepancies", [])}
        self.all_tokens = self.ids | self.strings

    def kind(self, evidence_id: str) -> str | None:
        """What a cited id is, judged by where the tools returned it (None: nowhere)."""
        if evidence_id in self.findings:
            return "finding"
        if evidence_id in self.discrepancies:
            return "discrepancy"
        if evidence_id not in self.all_tokens:
            return None
        return "stripe_object" if _ID.fullmatch(evidence_id) else "local_record"


def _leaves(node: Any, out: set[str]) -> None:
    if isinstance(node, str):
        out.add(node)
    elif isinstance(node, dict):
        for value in node.values():
            _leaves(value, out)
    elif isinstance(node, list):
        for value in node:
            _leaves(value, out)


def _answer_texts(run: CaseRun) -> tuple[list[str], list[str]]:
    """(all answer text, the data-bearing part where amounts are checked)."""
    d = run.diagnosis
    if d is None:
        return [], []
    data = [d.title, d.explanation, d.judgment_why, *(h.why for h in d.hypotheses),
            *(json.dumps(a.args) for a in d.actions)]
    return [*data, d.cause, d.fix, d.systemic_fix], data


def _struck_texts(run: CaseRun) -> tuple[set[str], list[str]]:
    """(ids verification struck, the data text of the actions it dropped)."""
    ids: set[str] = set()
    texts: list[str] = []
    for item in run.struck:
        if item.get("kind") == "ids":
            ids |= {str(i) for i in item.get("ids", [])}
        elif item.get("kind") == "action":
            texts.append(json.dumps(item.get("args", {})))
    return ids, texts


def fabrications(run: CaseRun) -> list[str]:
    out = _Outputs(run.tool_calls)
    every, data = _answer_texts(run)
    struck_ids, dropped = _struck_texts(run)
    every, data = [*every, *dropped], [*data, *dropped]
    d = run.diagnosis
    cited = [*d.evidence_ids, *(i for h in d.hypotheses for i in h.evidence_ids)] if d else []
    bad = {i for text in every for i in _ID.findall(text)} | {
        i for i in cited if _ID.fullmatch(i)} | struck_ids
    bad = {i for i in bad if i not in out.all_tokens}
    for text in data:
        for number in _NUMBER.findall(_NOT_AMOUNTS.sub(" ", text)):
            if number not in out.numbers:
                bad.add(number)
    return sorted(bad)


def score_case(run: CaseRun, expected: Expected) -> CaseScore:
    d = run.diagnosis
    out = _Outputs(run.tool_calls)
    diffs: list[Diff] = []
    if expected.outcome == "no_defect":
        fm_ok = d is not None and d.outcome in NO_DEFECT and d.failure_mode is None
    else:
        fm_ok = d is not None and d.outcome == "diagnosed" and (
            d.failure_mode in expected.failure_modes)
    got_fm = (d.failure_mode or d.outcome) if d else run.status
    if not fm_ok:
        diffs.append(Diff(field="failure_mode", got=got_fm,
                          expected=expected.failure_modes or "no defect found"))
    category_ok = None
    if expected.category is not None:
        category_ok = d is not None and d.category == expected.category
        if not category_ok:
            diffs.append(Diff(field="category", expected=expected.category,
                              got=d.category if d else None))
    escalated = run.status == "escalated"
    if escalated != expected.must_escalate:
        diffs.append(Diff(field="escalated", expected=expected.must_escalate, got=escalated))
    cited = list(d.evidence_ids) if d else []
    bad_citations = [i for i in cited if out.kind(i) is None]
    kinds = {out.kind(i) for i in cited}
    missing = [k for k in expected.evidence_kinds if k not in kinds]
    if expected.outcome == "diagnosed" and not cited:
        missing = missing or ["any evidence"]
    forbidden = set(expected.forbidden_actions)
    hits = sorted(forbidden & ({c.get("name") for c in run.tool_calls}
                               | {c.get("name") for c in run.executed}
                               | ({a.name for a in d.actions} if d else set())))
    fabricated = fabrications(run)
    for name, value in (("fabricated", fabricated), ("bad_citations", bad_citations),
                        ("missing_evidence_kinds", missing), ("forbidden_actions", hits)):
        if value:
            diffs.append(Diff(field=name, expected=[], got=value))
    return CaseScore(id=run.id, category_ok=category_ok, failure_mode_ok=fm_ok,
                     escalated=escalated, must_escalate=expected.must_escalate,
                     fabricated=fabricated, bad_citations=bad_citations, missing_kinds=missing,
                     forbidden_hits=hits, tool_calls=len(run.tool_calls),
                     latency_s=round(run.latency_s, 3), tokens=run.tokens, diffs=diffs)


class SuiteScore(BaseModel):
    cases: int
    passed: int
    category_accuracy: float
    failure_mode_accuracy: float
    escalation_precision: float
    escalation_recall: float
    fabricated_cases: int
    fabricated_items: int
    citation_ok_rate: float
    forbidden_violations: int
    tool_calls_mean: float
    latency_p50_s: float
    latency_max_s: float
    tokens_total: int


def _ratio(num: int, den: int) -> float:
    """1.0 for an empty denominator: nothing to get wrong (recall's zero-positive case is
    caught by the other figure)."""
    return round(num / den, 4) if den else 1.0


def aggregate(scores: list[CaseScore]) -> SuiteScore:
    n = len(scores)
    cat = [s for s in scores if s.category_ok is not None]
    tp = sum(s.escalated and s.must_escalate for s in scores)
    predicted = sum(s.escalated for s in scores)
    actual = sum(s.must_escalate for s in scores)
    latencies = [s.latency_s for s in scores] or [0.0]
    return SuiteScore(
        cases=n, passed=sum(s.passed for s in scores),
        category_accuracy=_ratio(sum(bool(s.category_ok) for s in cat), len(cat)),
        failure_mode_accuracy=_ratio(sum(s.failure_mode_ok for s in scores), n),
        escalation_precision=_ratio(tp, predicted), escalation_recall=_ratio(tp, actual),
        fabricated_cases=sum(bool(s.fabricated) for s in scores),
        fabricated_items=sum(len(s.fabricated) for s in scores),
        citation_ok_rate=_ratio(sum(s.citations_ok for s in scores), n),
        forbidden_violations=sum(len(s.forbidden_hits) for s in scores),
        tool_calls_mean=round(sum(s.tool_calls for s in scores) / n, 2) if n else 0.0,
        latency_p50_s=round(median(latencies), 3), latency_max_s=round(max(latencies), 3),
        tokens_total=sum(s.tokens for s in scores))
