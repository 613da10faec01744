"""`/escalations`: the queue of decisions waiting for an engineer (list, get, claim,
decide). A final decision resumes the paused run (a new run on its thread); the rules are
those of `api.decisions`, the same for a resume sent to the runs API."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api import escalations
from api.deps import Engineer, IdPath, Rt, Viewer
from api.escalations import DecisionIn, EscalationView
from api.runs import service
from api.runs.service import DecideResult

router = APIRouter(tags=["escalations"])
_ERR = {400: {"description": "decision not allowed"}, 403: {"description": "role"},
        404: {"description": "unknown escalation"},
        409: {"description": "already decided or claimed by someone else"}}


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


@router.post("/escalations/{escalation_id}/decide", response_model=DecideResult,
             responses=_ERR)
async def decide(escalation_id: IdPath, body: DecisionIn, rt: Rt,
                 who: Engineer) -> DecideResult:
    return await run_in_threadpool(service.decide_escalation, rt, escalation_id, who,
                                   body)
