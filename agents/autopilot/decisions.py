"""An engineer's decision on an escalated case, fed back to the case.

An approved repair takes the automatic path: reconcile again (the repair is made against
today's rows, not the ones seen at escalation time), apply the one approved item with recon's
idempotent, audited `apply_plan`, run the rule again, and resolve the case only when the
difference is gone; otherwise the case escalates again with why. The autopilot still never
moves money: a money-tier repair is recon's `mark_for_engineer`, which `apply_plan` only
acknowledges, so the case stays with the engineer who approved it. Closing, rejecting and
answering are recorded on the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from agents.autopilot.budget import AccountBudget
from agents.autopilot.cases import Case, Status, from_discrepancy, get_case, set_status
from agents.autopilot.handle import _escalate, _resolve
from agents.autopilot.jobs import JobContext, _snapshot_set, _user
from agents.autopilot.policy_store import get_policy
from agents.autopilot.shadow import DeclaredShadow
from agents.autopilot.sink import EscalationSink
from core import audit, engagements
from core.secrets import secret_box
from core.settings import Settings
from core.storage import Database
from tools.recon.apply import PlanItem, RepairPlan, apply_plan

__all__ = ["CaseDecision", "DecisionOutcome", "apply_decision"]

REPAIR_PREFIX = "repair."
CLOSE = "close_case"


class CaseDecision(BaseModel):
    type: Literal["approve", "edit", "reject", "respond"]
    action: str | None = None
    args: dict[str, Any] | None = None
    message: str = ""
    actor: str


class DecisionOutcome(BaseModel):
    case_id: str
    status: Status
    detail: str


def apply_decision(settings: Settings, db: Database, case_id: str, decision: CaseDecision, *,
                   sink: EscalationSink, now: datetime) -> DecisionOutcome:
    with db.session() as session:
        case = get_case(session, case_id)
    action = decision.action or ""
    if case.status == "resolved":
        case = _note(db, case, decision, "the case was already resolved "
                     f"({(case.resolution or {}).get('how', '?')}); decision recorded only")
    elif decision.type == "approve" and action == CLOSE:
        with db.session() as session:
            case = set_status(session, case.id, "resolved", closed_at=now, resolution={
                "how": f"closed by {decision.actor}", "verified": False,
                "at": now.isoformat(), "decision": decision.model_dump()})
    elif decision.type == "approve" and action.startswith(REPAIR_PREFIX):
        case = _repair(settings, db, case, decision, sink=sink, now=now)
    elif decision.type == "reject":
        case = _note(db, case, decision, "rejected: nothing was applied; the case stays "
                     "escalated until the difference is gone or someone closes it")
    elif decision.type == "respond":
        case = _note(db, case, decision, "answered; the case stays escalated")
    else:  # the triage graph's own actions: the autopilot does not carry them out
        thread = (case.triage or {}).get("thread_id")
        case = _note(db, case, decision, f"{decision.type} of {action or 'the diagnosis'} "
                     "recorded; the autopilot does not carry out triage actions"
                     + (f": resume with `fde triage resume {thread}`" if thread else ""))
    detail = (case.resolution or {}).get("note") or (case.resolution or {}).get("how") or ""
    with db.session() as session:
        audit.record(session, actor=decision.actor, action="autopilot.case.decision",
                     target=case.id, engagement=case.engagement,
                     details={"decision": decision.model_dump(), "status": case.status,
                              "detail": detail})
    return DecisionOutcome(case_id=case.id, status=case.status, detail=detail)


def _note(db: Database, case: Case, decision: CaseDecision, note: str) -> Case:
    with db.session() as session:
        return set_status(session, case.id, case.status, resolution={
            **(case.resolution or {}), "decision": decision.model_dump(), "note": note})


def _repair(settings: Settings, db: Database, case: Case, decision: CaseDecision, *,
            sink: EscalationSink, now: datetime) -> Case:
    if case.source != "discrepancy":
        return _note(db, case, decision, "only reconciliation differences have repairs")
    with db.session() as session:
        eng = engagements.get(session, case.engagement)
        policy = get_policy(session, case.engagement).policy
    ctx = JobContext(settings=settings, db=db, box=secret_box(settings), engagement=eng,
                     policy=policy, now=now, budget=AccountBudget(), sink=sink,
                     shadow=DeclaredShadow(), actor=f"{decision.actor} via autopilot")
    user, mapping = _user(ctx)
    if user is None:
        return _note(db, case, decision, "no user database or mapping: nothing to repair")
    env = ctx.case_env()
    try:
        from tools.recon.run import run_recon
        from tools.recon.store import save_run

        snap = _snapshot_set(ctx)

        def reconcile() -> Any:
            run = run_recon(snapshot=snap, user=user, mapping=mapping, engagement=eng.name,
                            expected_livemode=eng.stripe_mode == "live")
            with db.session() as session:
                save_run(session, run)
            return run

        run = reconcile()
        found = {from_discrepancy(d).dedupe_key: d for d in run.discrepancies}
        d = found.get(case.dedupe_key)
        if d is None:
            return _resolve(env, case, "no longer reported when the approved repair was due",
                            verified_by=run.id, decision=decision.model_dump())
        proposed = d.proposed_repair
        if proposed is None or REPAIR_PREFIX + proposed.kind != decision.action:
            return _escalate(env, case, f"{decision.actor} approved {decision.action}, but "
                             f"run {run.id} now proposes "
                             f"{proposed.kind if proposed else 'no repair'}",
                             proposed.model_dump() if proposed else None)
        plan = RepairPlan(run_id=run.id, engagement=eng.name, items=[
            PlanItem(discrepancy_id=d.id, repair=proposed, approved=True)])
        result = apply_plan(plan, run, user=user, db=db, actor=ctx.actor)[0]
        if result.status == "acknowledged":
            return _note(db, case, decision, f"approved and acknowledged: {result.detail}; "
                         "the autopilot never moves money, the approver carries it out")
        if result.status not in ("applied", "already_applied"):
            return _escalate(env, case, f"approved repair {result.status}: {result.detail}",
                             proposed.model_dump())
        after = reconcile()
        if case.dedupe_key in {from_discrepancy(x).dedupe_key for x in after.discrepancies}:
            return _escalate(env, case, f"approved repair applied ({result.detail}) but run "
                             f"{after.id} still reports it", proposed.model_dump())
        return _resolve(env, case, "repaired after approval", repair=result.detail,
                        verified_by=after.id, decision=decision.model_dump())
    finally:
        user.engine.dispose()
