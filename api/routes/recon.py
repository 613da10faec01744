"""`/recon/runs`: stored reconciliation runs (summaries, then one in full)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Db, IdPath, Viewer
from tools.recon.models import ReconRun
from tools.recon.store import list_runs, load_run

router = APIRouter(tags=["recon"])


class ReconRunSummary(BaseModel):
    id: str
    engagement: str | None
    started_at: datetime
    verdict: str
    counts: dict[str, int]


@router.get("/recon/runs", response_model=list[ReconRunSummary])
def runs(db: Db, _: Viewer, engagement: str | None = None,
         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[ReconRunSummary]:
    with db.session() as session:
        return [ReconRunSummary.model_validate(r)
                for r in list_runs(session, engagement=engagement, limit=limit)]


@router.get("/recon/runs/{run_id}", response_model=ReconRun,
            responses={404: {"description": "unknown run"}})
def run(run_id: IdPath, db: Db, _: Viewer) -> ReconRun:
    with db.session() as session:
        return load_run(session, run_id)
