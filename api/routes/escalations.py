"""`/escalations`: the queue of decisions waiting for an engineer (list, get, claim,
decide). A final decision resumes the paused run (a new run on its thread)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api import escalations
from api.auth import Principal
from api.autopilot_sink import AUTOPILOT, feed_back
from api.deps import Engineer, IdPath, Rt, Viewer
from api.escalations import DecisionIn, EscalationView
from api.runs import service
from api.runs.models import Command, RunCreate
from api.runs.runtime import Runtime

router = APIRouter(tags=["escalations"])
_ERR = {400: {"description": "decision not allowed"}, 403: {"description": "role"},
        404: {"description": "unknown escalation"},
        409: {"description": "already decided or claimed by someone else"}}


class DecideResult(BaseModel):
    escalation: EscalationView
    run_id: str | None  # the resume run; None while a second approver is needed
    waiting_for_second_approver: bool


@router.get("/escalations", response_model=list[EscalationView])
def list_queue(rt: Rt, _: Viewer, engagement: str | None = None,
               severity: Literal["low", "medium", "high", "critical"] | None = None,
               product: str | None = None,
               status: Literal["open", "claimed", "decided"] | None = None,
               min_age_seconds: Annotated[int | None, Query(ge=0, le=10 * 365 * 86400)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[EscalationView]:
    with rt.db.session() as session:
        return escalations.list_open(session, engagement=engagement, severity=severity,
                                     product=product, status=status,
                                     min_age_seconds=min_age_seconds, limit=limit)


@router.get("/escalations/{escalation_id}", response_model=EscalationView, responses=_ERR)
def get(escalation_id: IdPath, rt: Rt, _: Viewer) -> EscalationView:
    with rt.db.session() as session:
        return escalations.get(session, escalation_id)


@router.post("/escalations/{escalation_id}/claim", response_model=EscalationView,
             responses=_ERR)
def claim(escalation_id: IdPath, rt: Rt, who: Engineer) -> EscalationView:
    with rt.db.session() as session:
        return escalations.claim(session, escalation_id, who,
                                 lease_seconds=rt.settings.api_escalation_claim_seconds)


def decide_escalation(rt: Runtime, escalation_id: str, who: Principal,
                      decision: DecisionIn) -> DecideResult:
    """Decide and (when final) queue the resume run, in one transaction."""
    with rt.db.session() as session:
        decided = escalations.decide(session, escalation_id, who, decision,
                                     settings=rt.settings)
        run_id = None
        esc = decided.escalation
        if decided.resume is not None and esc.assistant_id != AUTOPILOT:
            body = RunCreate(assistant_id=esc.assistant_id, command=Command(
                resume={esc.interrupt_id: decided.resume}), stream_mode=["values", "updates",
                                                                          "custom"])
            run_id = service.create_run(rt, session, esc.thread_id, body, who,
                                        via_escalation=True).run_id
            escalations.mark_resumed(session, escalation_id, run_id)
        view = escalations.get(session, escalation_id)
    rt.wake()
    if decided.resume is not None and esc.assistant_id == AUTOPILOT:  # no graph: the case
        feed_back(rt.settings, rt.db, escalation_id)
        with rt.db.session() as session:
            view = escalations.get(session, escalation_id)
    return DecideResult(escalation=view, run_id=run_id,
                        waiting_for_second_approver=decided.resume is None)


@router.post("/escalations/{escalation_id}/decide", response_model=DecideResult,
             responses=_ERR)
async def decide(escalation_id: IdPath, body: DecisionIn, rt: Rt, who: Engineer) -> DecideResult:
    return await run_in_threadpool(decide_escalation, rt, escalation_id, who, body)
