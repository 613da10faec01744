"""`/shadow/runs`: stored shadow runs (summaries, newest first, then one in full)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Db, IdPath, Viewer
from tools.shadow.models import RunSummary, ShadowRun
from tools.shadow.store import get_run, list_runs

router = APIRouter(tags=["shadow"])


@router.get("/shadow/runs", response_model=list[RunSummary])
def runs(db: Db, _: Viewer, engagement: str | None = None,
         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RunSummary]:
    with db.session() as session:
        return list_runs(session, engagement, limit=limit)


@router.get("/shadow/runs/{run_id}", response_model=ShadowRun,
            responses={404: {"description": "unknown run"}})
def run(run_id: IdPath, db: Db, _: Viewer) -> ShadowRun:
    with db.session() as session:
        return get_run(session, run_id)
