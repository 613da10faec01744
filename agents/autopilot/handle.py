"""Auto-triage: what happens to what a run reported.

Every discrepancy and finding opens or joins a case; new cases go through the triage graph;
then the policy decides. A repair the policy allows is applied (recon's idempotent,
transactional `apply_plan`, one audit entry per item) and verified by running the rule
again: the case is resolved only when the difference is no longer reported. Everything
else — not allowed, deferred past its chance, failed, or still reported after the repair —
is escalated with its evidence through the `EscalationSink`, and an "escalation created"
notification is queued in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.autopilot.cases import (
    Case,
    CaseItem,
    Source,
    close_unseen,
    from_discrepancy,
    from_finding,
    get_case,
    list_cases,
    observe,
    set_status,
)
from agents.autopilot.notify import queue_notification
from agents.autopilot.policy import AUTOMATIC_ACTIONS, Policy
from agents.autopilot.sink import EscalationPayload, EscalationSink
from agents.autopilot.triager import Triager
from agents.escalation import ActionRequest, ReviewConfig, build_escalation
from agents.models import Diagnosis
from core.storage import Database
from tools.checks.model import Finding
from tools.envelope import ToolContext
from tools.recon.apply import PlanItem, RepairPlan, apply_plan
from tools.recon.models import Discrepancy, ReconRun, Verdict

__all__ = ["CaseEnv", "handle_discrepancies", "handle_findings", "handle_shadow",
           "verify_findings"]


@dataclass
class CaseEnv:
    db: Database
    engagement: str
    livemode: bool
    policy: Policy
    now: datetime
    sink: EscalationSink
    actor: str
    triager: Triager | None = None
    tools: Callable[[], ToolContext] | None = None


def _observe_all(env: CaseEnv, items: list[CaseItem], source: Source, *,
                 kinds: set[str] | None, complete: bool) -> tuple[list[Case], int]:
    """(cases that need a decision, how many were closed as no longer reported)."""
    with env.db.session() as session:
        fresh = [case for case, new in (observe(session, env.engagement, i, now=env.now)
                                        for i in items) if new]
        closed = close_unseen(session, env.engagement, source, {i.dedupe_key for i in items},
                              kinds=kinds, now=env.now,
                              how="no longer reported") if complete else []
    waiting = {i.dedupe_key for i in items}
    with env.db.session() as session:  # deferred earlier (quiet hours): decide again now
        again = [c for c in list_cases(session, engagement=env.engagement, status="open")
                 if c.source == source and c.dedupe_key in waiting
                 and c.id not in {f.id for f in fresh}]
    return fresh + again, len(closed)


def _triage(env: CaseEnv, case: Case) -> Case:
    if not env.policy.triage or env.triager is None or env.tools is None or case.triage:
        return case
    outcome = env.triager.triage(case, env.tools())
    with env.db.session() as session:
        return set_status(session, case.id, case.status,
                          triage=outcome.model_dump(mode="json"))


def _payload(case: Case, why: str, proposed: dict[str, Any] | None) -> EscalationPayload:
    triage = case.triage or {}
    interrupt = (triage.get("interrupt") or {}).get("value")
    diagnosis = triage.get("diagnosis")
    if interrupt:  # the graph paused itself: its own HITL payload, resumable on its thread
        requests = [ActionRequest.model_validate(a) for a in interrupt["action_requests"]]
        configs = [ReviewConfig.model_validate(c) for c in interrupt["review_configs"]]
    elif diagnosis:
        built = build_escalation(Diagnosis.model_validate(diagnosis))
        requests, configs = built.action_requests, built.review_configs
    else:
        requests, configs = [], []
    if proposed is not None:
        requests.append(ActionRequest(name=f"repair.{proposed['kind']}",
                                      args={"case_id": case.id, "target": proposed["target"],
                                            "tier": proposed["tier"]},
                                      description=proposed["summary"]))
        configs.append(ReviewConfig(action_name=f"repair.{proposed['kind']}",
                                    allowed_decisions=["approve", "reject"]))
    requests.append(ActionRequest(name="close_case", args={"case_id": case.id},
                                  description="close the case: not a problem, or fixed"))
    configs.append(ReviewConfig(action_name="close_case",
                                allowed_decisions=["approve", "reject", "respond"]))
    return EscalationPayload(
        action_requests=requests, review_configs=configs, reason=why, case_id=case.id,
        engagement=case.engagement, evidence=case.evidence, money_minor=case.money_minor,
        currency=case.currency, triage_thread=triage.get("thread_id"), diagnosis=diagnosis)


def _escalate(env: CaseEnv, case: Case, why: str,
              proposed: dict[str, Any] | None = None) -> Case:
    with env.db.session() as session:
        current = get_case(session, case.id)
        escalated = env.sink.escalate(session, current, _payload(current, why, proposed),
                                      now=env.now)
        queue_notification(session, escalated, "escalation_created", now=env.now, detail=why)
    return escalated


def _resolve(env: CaseEnv, case: Case, how: str, **details: Any) -> Case:
    with env.db.session() as session:
        return set_status(session, case.id, "resolved", closed_at=env.now, resolution={
            "how": how, "verified": True, "at": env.now.isoformat(), **details})


def handle_discrepancies(env: CaseEnv, run: ReconRun, *, user: Any,
                         rerun: Callable[[], ReconRun]) -> dict[str, int]:
    items = {from_discrepancy(d).dedupe_key: d for d in run.discrepancies}
    cases, closed = _observe_all(env, [from_discrepancy(d) for d in items.values()],
                                 "discrepancy", kinds=None,
                                 complete=run.verdict != Verdict.INCOMPLETE)
    counts = {"cases": len(items), "new": 0, "closed": closed, "repaired": 0, "escalated": 0,
              "deferred": 0}
    chosen: list[tuple[Case, Discrepancy]] = []
    for case in cases:
        counts["new"] += case.seen_count == 1
        d = items[case.dedupe_key]
        case = _triage(env, case)
        proposed = d.proposed_repair.model_dump() if d.proposed_repair else None
        decision = env.policy.repair_decision(
            cls=d.class_.value, entity=d.entity, money_minor=d.money_impact,
            currency=d.currency, livemode=env.livemode, at=env.now)
        if decision.auto and (proposed is None or proposed["kind"] not in AUTOMATIC_ACTIONS
                              or proposed["tier"] == "money"):
            why = f"recon proposes {proposed['kind'] if proposed else 'nothing'} for this one"
            decision = decision.model_copy(update={"auto": False, "why": why})
        if decision.auto:
            chosen.append((case, d))
        elif decision.defer:
            counts["deferred"] += 1
        else:
            _escalate(env, case, decision.why, proposed)
            counts["escalated"] += 1
    if not chosen:
        return counts
    plan = RepairPlan(run_id=run.id, engagement=env.engagement, items=[
        PlanItem(discrepancy_id=d.id, repair=d.proposed_repair, approved=True)
        for _, d in chosen if d.proposed_repair is not None])
    results = {r.discrepancy_id: r for r in apply_plan(plan, run, user=user, db=env.db,
                                                        actor=env.actor)}
    after = rerun()  # verification: the same rules over the repaired rows
    still = {from_discrepancy(d).dedupe_key for d in after.discrepancies}
    for case, d in chosen:
        result = results[d.id]
        if result.status in ("applied", "already_applied") and case.dedupe_key not in still:
            _resolve(env, case, "repaired automatically", repair=result.detail,
                     verified_by=after.id)
            counts["repaired"] += 1
        else:
            why = (f"automatic repair {result.status}: {result.detail}"
                   if result.status not in ("applied", "already_applied")
                   else f"repair applied ({result.detail}) but run {after.id} still reports it")
            _escalate(env, case, why, d.proposed_repair.model_dump() if d.proposed_repair
                      else None)
            counts["escalated"] += 1
    return counts


def handle_findings(env: CaseEnv, found: list[Finding], *,
                    evaluated: list[str]) -> dict[str, int]:
    """Findings the policy lets close on their own wait for `verify_findings`; the rest
    escalate now."""
    items = [from_finding(f) for f in found]
    cases, closed = _observe_all(env, items, "finding", kinds=set(evaluated), complete=True)
    counts = {"cases": len(items), "new": 0, "closed": closed, "escalated": 0, "waiting": 0}
    for case in cases:
        counts["new"] += case.seen_count == 1
        case = _triage(env, case)
        decision = env.policy.finding_decision(case.kind)
        if decision.auto:
            counts["waiting"] += 1
        else:
            _escalate(env, case, decision.why)
            counts["escalated"] += 1
    return counts


def verify_findings(env: CaseEnv, found: list[Finding], *,
                    evaluated: list[str]) -> dict[str, int]:
    """After the repairs: an allowed finding case closes only if its check, run again, no
    longer fires; otherwise it escalates (nothing the autopilot may do fixes it)."""
    firing = {from_finding(f).dedupe_key for f in found}
    counts = {"resolved": 0, "escalated": 0}
    with env.db.session() as session:
        waiting = [c for c in list_cases(session, engagement=env.engagement, status="open")
                   if c.source == "finding" and env.policy.finding_decision(c.kind).auto]
    for case in waiting:
        if case.kind in evaluated and case.dedupe_key not in firing:
            _resolve(env, case, "the check no longer fires after the autopilot's repairs",
                     verified_by="checks")
            counts["resolved"] += 1
        elif case.dedupe_key in firing:
            _escalate(env, case, "policy allows closing it on its own, but the check still "
                      "fires after the autopilot's repairs")
            counts["escalated"] += 1
    return counts


def handle_shadow(env: CaseEnv, item: CaseItem | None) -> dict[str, int]:
    """A shadow run that did not pass is a case an engineer decides (ship the candidate or
    not: never the autopilot's call); one that passed closes the earlier ones."""
    with env.db.session() as session:
        closed = close_unseen(session, env.engagement, "shadow",
                              {item.dedupe_key} if item else set(), kinds=None, now=env.now,
                              how="a later handler version passed its shadow run")
        case, new = observe(session, env.engagement, item, now=env.now) if item else (None, False)
    if case is not None and new:
        _escalate(env, case, "the candidate handler behaves differently from the primary "
                  "(or could not be compared): deciding whether it ships needs an engineer")
    return {"escalated": int(new), "closed": len(closed)}
