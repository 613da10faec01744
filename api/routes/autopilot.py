"""The autopilot over HTTP: what ran, what is late, what failed (`/autopilot/status`), each
engagement's health scorecard and policy, and the cases its runs opened (`/cases`).

A policy is YAML (the same text `fde autopilot policy set` takes); replacing it needs the
approver role, is audited with the previous version, and an invalid one changes nothing and
answers 422 naming the offending entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from agents.autopilot.cases import Case, list_cases
from agents.autopilot.health import Scorecard, scorecard
from agents.autopilot.policy import PolicyError
from agents.autopilot.policy_store import get_policy, set_policy
from agents.autopilot.status import EngagementStatus, engagement_status
from api.deps import Approver, Db, NamePath, Rt, Viewer
from api.errors import ErrorBody
from core import engagements
from core.secrets import secret_box

router = APIRouter(tags=["autopilot"])
_UNKNOWN = {404: {"description": "unknown engagement"}}


class AutopilotStatus(BaseModel):
    in_process: bool = Field(description="this API process runs the scheduler (`fde serve "
                             "--autopilot`); other processes may run it too")
    engagements: list[EngagementStatus]


class PolicyView(BaseModel):
    engagement: str
    version: int = Field(description="0: the built-in default (nothing automatic)")
    source: str
    policy: dict[str, Any]
    updated_by: str | None = None
    updated_at: datetime | None = None


class PolicyIn(BaseModel):
    source: str = Field(max_length=100_000, description="the policy as YAML")


def _policy_view(session: Any, name: str) -> PolicyView:
    stored = get_policy(session, name)
    return PolicyView(engagement=name, version=stored.version, source=stored.source,
                      policy=stored.policy.model_dump(mode="json", by_alias=True),
                      updated_by=stored.updated_by, updated_at=stored.updated_at)


@router.get("/autopilot/status", response_model=AutopilotStatus, responses=_UNKNOWN)
def status(request: Request, db: Db, _: Viewer,
           engagement: str | None = None) -> AutopilotStatus:
    now = datetime.now(UTC)
    with db.session() as session:
        if engagement:
            engagements.get(session, engagement)
        names = [engagement] if engagement else [e.name for e in engagements.list_all(session)]
        views = [engagement_status(session, n, get_policy(session, n).policy.schedule, now=now)
                 for n in names]
    runner = getattr(request.app.state, "autopilot", None)
    return AutopilotStatus(in_process=runner is not None and runner.running, engagements=views)


@router.get("/engagements/{name}/scorecard", response_model=Scorecard, responses=_UNKNOWN)
def get_scorecard(name: NamePath, db: Db, _: Viewer) -> Scorecard:
    with db.session() as session:
        engagements.get(session, name)
        return scorecard(session, name, now=datetime.now(UTC))


@router.get("/engagements/{name}/policy", response_model=PolicyView, responses=_UNKNOWN)
def get_engagement_policy(name: NamePath, db: Db, _: Viewer) -> PolicyView:
    with db.session() as session:
        engagements.get(session, name)
        return _policy_view(session, name)


@router.put("/engagements/{name}/policy", response_model=PolicyView, responses={
    **_UNKNOWN, 422: {"model": ErrorBody, "description": "invalid policy: the detail names "
                      "the offending entry; nothing changed"}})
async def put_engagement_policy(name: NamePath, body: PolicyIn, rt: Rt,
                                who: Approver) -> PolicyView | JSONResponse:
    def replace() -> PolicyView:
        with rt.db.session() as session:
            set_policy(session, secret_box(rt.settings), name, body.source, actor=who.actor,
                       role=who.role)
            return _policy_view(session, name)

    try:
        return await run_in_threadpool(replace)
    except PolicyError as exc:
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=422)


@router.get("/cases", response_model=list[Case])
def cases(db: Db, _: Viewer, engagement: str | None = None,
          status: Literal["open", "escalated", "resolved"] | None = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[Case]:
    with db.session() as session:
        return list_cases(session, engagement=engagement, status=status)[:limit]
