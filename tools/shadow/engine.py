"""A webhook-replay shadow run: clean replay (primary, candidate, primary) compared with the
noise filter, then the fault matrix (each fault replayed into both handlers, invariants
checked on each), all folded into one `ShadowRun`."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, Field

from core.ids import new_id
from tools.recon.mapping import Mapping
from tools.shadow.attribute import classify_state
from tools.shadow.compare import diff_runs, diff_under_fault
from tools.shadow.corpus import Corpus
from tools.shadow.declared import Compiled, declared_violations, load_invariants
from tools.shadow.faults import check_faults, plan_for
from tools.shadow.invariants import (
    INVARIANTS,
    MATRIX_INVARIANTS,
    Violation,
    evaluate,
    processing_probe,
)
from tools.shadow.models import FaultCell, Mismatch, MoneyImpact, RunInfo, ShadowRun, Verdict
from tools.shadow.rank import rank, top
from tools.shadow.replay import (
    DEFAULT_LANES,
    DRAIN_SECONDS,
    BudgetSpent,
    Capture,
    Observer,
    Target,
    TargetUnreachable,
    replay,
)
from tools.shadow.truth import Policy, Truth

__all__ = ["PrimaryCache", "ReplayOptions", "run_webhook_replay"]

TOP = 10
PrimaryCache = dict[str, Capture]


class ReplayOptions(BaseModel):
    faults: list[str] = Field(default_factory=list)
    seed: int = 0
    policy: Policy = Field(default_factory=Policy)
    engagement: str | None = None
    repro: str = "fde shadow run"  # the command line that reproduces this run
    invariants: Path | None = None  # the user's declared invariants (`declared.py`)
    lanes: int = Field(default=DEFAULT_LANES, ge=1)  # concurrent delivery lanes per replay
    budget: float | None = None  # seconds of wall time per replay; then INCONCLUSIVE


def _repro(base: str, fault: str | None, seed: int, event_id: str | None) -> str:
    parts = [base, f"--only {fault or 'clean'}", f"--seed {seed}"]
    if event_id:
        parts.append(f"--focus {event_id}")
    return " ".join(parts)


class _Runner:
    def __init__(self, corpus: Corpus, truth: Truth, options: ReplayOptions,
                 observer: Observer | None) -> None:
        self.corpus, self.truth = corpus, truth
        self.options, self.observer = options, observer
        self.clients: dict[str, httpx.Client] = {}

    def run(self, target: Target, fault: str | None, seed: int) -> Capture:
        # Lanes share one connection pool per target; replay applies Stripe's timeout.
        client = self.clients.setdefault(target.name, httpx.Client(
            timeout=DRAIN_SECONDS, limits=httpx.Limits(max_connections=None,
                                            max_keepalive_connections=self.options.lanes * 2)))
        probe = processing_probe(self.truth, target.user) if target.user else None
        return replay(target, self.corpus, plan_for(self.corpus, fault, seed), http=client,
                      after_delivery=probe, lanes=self.options.lanes, observer=self.observer,
                      budget=self.options.budget)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _violations(corpus: Corpus, truth: Truth, capture: Capture, fault: str | None,
                seed: int, mapping: Mapping | None, declared: list[Compiled]) -> list[Violation]:
    plan = plan_for(corpus, fault, seed)
    return evaluate(corpus, truth, capture, {p: corpus.events[d.index]["type"]
                                             for p, d in enumerate(plan)}, mapping) + \
        declared_violations(declared, truth, capture)


def _new(cand: list[Violation], prim: list[Violation]) -> list[Violation]:
    known = {(v.invariant, v.source) for v in prim}
    return [v for v in cand if (v.invariant, v.source) not in known]


def _as_mismatch(v: Violation, fault: str | None) -> Mismatch:
    return Mismatch(kind="invariant", invariant=v.invariant, event_type=v.event_type,
                    event_id=v.event_id, object_id=v.source, fault=fault, detail=v.detail,
                    amount_minor=v.amount_minor, currency=v.currency)


def run_webhook_replay(
    corpus: Corpus, primary: Target, candidate: Target, mapping: Mapping | None,
    options: ReplayOptions, *, cache: PrimaryCache | None = None,
    observer: Observer | None = None,
) -> ShadowRun:
    """`cache` keeps the primary's captures across runs on the same corpus and seed (one
    correct primary against many candidates); without it the primary is run around the
    candidate so time-derived noise is caught."""
    faults = check_faults(list(options.faults))
    declared = load_invariants(options.invariants) if options.invariants else []
    # Without a mapping the canonical model's invariants do not apply (`invariants.py`).
    matrix = [*(MATRIX_INVARIANTS if mapping is not None else ("acknowledged",)),
              *(d.spec.id for d in declared)]
    truth = Truth(corpus, options.policy)
    info = RunInfo(id=new_id("shd"), mode="webhook_replay", engagement=options.engagement,
                   primary=primary.name, candidate=candidate.name,
                   api_version=corpus.api_version, corpus_hash=corpus.hash,
                   corpus_events=len(corpus), fault_seed=options.seed, faults=faults,
                   started_at=datetime.now(UTC))
    runner = _Runner(corpus, truth, options, observer)
    cache = {} if cache is None else cache

    def primary_run(tag: str, fault: str | None) -> Capture:
        key = f"{corpus.hash}:{options.seed}:{fault}:{tag}"
        if key not in cache:
            cache[key] = runner.run(primary, fault, options.seed)
        return cache[key]

    try:
        first = primary_run("1", None)
        clean = runner.run(candidate, None, options.seed)
        second = primary_run("2", None)
        fault_runs = {f: (primary_run("1", f), runner.run(candidate, f, options.seed))
                      for f in faults}
    except (TargetUnreachable, BudgetSpent) as exc:
        info.finished_at = datetime.now(UTC)
        reason = f"{exc.target} could not be reached: {exc.reason}" \
            if isinstance(exc, TargetUnreachable) else \
            f"{exc}: not every event was delivered, so nothing can be concluded"
        return ShadowRun(run=info, verdict=Verdict.INCONCLUSIVE, reasons=[reason])
    finally:
        runner.close()

    diffs = diff_runs(corpus, mapping, first, clean, second)
    prim_v = _violations(corpus, truth, first, None, options.seed, mapping, declared)
    cand_v = _violations(corpus, truth, clean, None, options.seed, mapping, declared)
    mismatches = [m for m in diffs.http]
    clean_new = _new(cand_v, prim_v)
    mismatches += [_as_mismatch(v, None) for v in clean_new]
    explained = {v.source for v in clean_new}
    mismatches += classify_state(corpus, mapping, clean, diffs.state, explained=explained,
                                 entitlement_entity=options.policy.entitlement_entity)
    cells: list[FaultCell] = []
    clean_broken = {v.invariant for v in cand_v}
    for fault, (prim_cap, cand_cap) in fault_runs.items():
        pv = _violations(corpus, truth, prim_cap, fault, options.seed, mapping, declared)
        cv = _violations(corpus, truth, cand_cap, fault, options.seed, mapping, declared)
        # The candidate against the primary under the same fault: what the fault makes the
        # candidate do differently, whatever invariants say.
        under = diff_under_fault(corpus, prim_cap, cand_cap, diffs.noisy)
        new_v = _new(cv, pv)
        differing = [*under.http, *classify_state(
            corpus, mapping, cand_cap, under.state, explained={v.source for v in new_v},
            entitlement_entity=options.policy.entitlement_entity)]
        cells.append(FaultCell(
            fault=fault, invariant="state_matches_primary", primary="holds",
            candidate="broken" if differing else "holds",
            candidate_in_clean_run="broken" if diffs.state or diffs.http else "holds",
            violations=len(differing), example=differing[0].detail if differing else None))
        for m in differing:
            m.fault = fault
        mismatches += differing
        for inv in matrix:
            mine = [v for v in cv if v.invariant == inv]
            cells.append(FaultCell(
                fault=fault, invariant=inv,
                primary="broken" if any(v.invariant == inv for v in pv) else "holds",
                candidate="broken" if mine else "holds",
                candidate_in_clean_run="broken" if inv in clean_broken else "holds",
                violations=len(mine), example=mine[0].detail if mine else None))
        mismatches += [_as_mismatch(v, fault) for v in new_v]
    for m in mismatches:
        m.repro = _repro(options.repro, m.fault, options.seed, m.event_id)
    titles = {**INVARIANTS, **{d.spec.id: d.spec.title or d.spec.id for d in declared}}
    reasons = [f"the primary itself breaks {titles[i]!r}"
               for i in sorted({v.invariant for v in prim_v})]
    # Each difference once: the same row off by the same amount under several faults is
    # one amount at stake, not one per fault.
    money: dict[str, dict[tuple[str | None, ...], int]] = {}
    for m in mismatches:
        if m.amount_minor is not None and m.currency:
            at_stake = money.setdefault(m.currency, {})
            key = (m.kind, m.invariant, m.object_id, m.detail.split(":", 1)[0])
            at_stake[key] = max(at_stake.get(key, 0), m.amount_minor)
    ranked = rank(mismatches)
    info.finished_at = datetime.now(UTC)
    return ShadowRun(
        run=info, verdict=Verdict.FAIL if mismatches else Verdict.PASS, reasons=reasons,
        totals={"events": len(corpus), "deliveries_clean": len(clean.attempts),
                "fault_runs": len(fault_runs), "mismatches": len(mismatches),
                "state_diffs": len(diffs.state), "http_diffs": len(diffs.http),
                "cells_broken": sum(c.candidate == "broken" for c in cells)},
        noise=diffs.noise,
        by_event_type=dict(Counter(m.event_type or "(none)" for m in mismatches)),
        state_diffs=diffs.state, fault_matrix=cells,
        money_impact=[MoneyImpact(currency=c, amount_minor=sum(v.values()), mismatches=len(v))
                      for c, v in sorted(money.items())],
        top_mismatches=top(mismatches, TOP), mismatches=ranked)
