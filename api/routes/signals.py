"""`/signals`: roadmap signals aggregated across every engagement under care (integration
gaps, migration friction, multi-product failures) with counts, money and evidence."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Db, Viewer
from knowledge.signals import SignalReport, collect_signals

router = APIRouter(tags=["signals"])


@router.get("/signals", response_model=SignalReport)
def signals(db: Db, _: Viewer) -> SignalReport:
    with db.session() as session:
        return collect_signals(session)
