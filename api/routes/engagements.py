"""`/engagements`: the accounts under care (never a key, only its hint), and
`/findings`: the detectors' open findings of an engagement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Db, NamePath, Viewer
from core import engagements
from core.engagements import Engagement
from tools.checks.model import Finding
from tools.checks.store import list_findings

router = APIRouter(tags=["engagements"])


@router.get("/engagements", response_model=list[Engagement])
def list_all(db: Db, _: Viewer) -> list[Engagement]:
    with db.session() as session:
        return engagements.list_all(session)


@router.get("/engagements/{name}", response_model=Engagement,
            responses={404: {"description": "unknown engagement"}})
def get(name: NamePath, db: Db, _: Viewer) -> Engagement:
    with db.session() as session:
        return engagements.get(session, name)


@router.get("/findings", response_model=list[Finding],
            responses={404: {"description": "unknown engagement"}})
def findings(db: Db, _: Viewer, engagement: Annotated[str, Query(min_length=1)],
             include_resolved: bool = False, check: str | None = None) -> list[Finding]:
    with db.session() as session:
        engagements.get(session, engagement)
        return list_findings(session, engagement, include_resolved=include_resolved,
                             check=check)
