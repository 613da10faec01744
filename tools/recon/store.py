"""Stored recon runs (for `fde recon show` and the API) and applied repair items.

Tables come from migration 0002_recon; they are described here with SQLAlchemy Core so the
room does not depend on the shared ORM models module.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from tools.recon.errors import RunNotFound
from tools.recon.models import DiscrepancyList, ReconRun

__all__ = ["applied_items", "list_runs", "load_run", "record_repair", "save_run"]

_meta = MetaData()
runs = Table(
    "recon_runs", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("started_at", DateTime(timezone=True)), Column("finished_at", DateTime(timezone=True)),
    Column("verdict", String(32)), Column("counts", JSON), Column("body", JSON),
)
repairs = Table(
    "recon_repairs", _meta,
    Column("item_key", String(255), primary_key=True), Column("run_id", String(40)),
    Column("discrepancy_id", String(64)), Column("kind", String(32)), Column("status", String(16)),
    Column("actor", String(128)), Column("applied_at", DateTime(timezone=True)),
    Column("details", JSON),
)


_ROWS = "discrepancy_rows"  # body key: the discrepancies as columnar rows (Parquet, base64)


def _encode(frame: pl.DataFrame) -> str:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _decode(text: str) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(base64.b64decode(text)))


def save_run(session: Session, run: ReconRun) -> None:
    """Stores the run; its discrepancies stay columnar (one Parquet blob in the body), so a
    run with tens of thousands of them is stored without a model per row."""
    frame = run.discrepancies.frame
    body = run.model_dump(mode="json", by_alias=True,
                          exclude={"discrepancies"} if frame is not None else None)
    if frame is not None:
        body[_ROWS] = _encode(frame)
    session.execute(insert(runs).values(
        id=run.id, engagement=run.engagement, started_at=run.started_at,
        finished_at=run.finished_at, verdict=run.verdict.value, counts=run.counts,
        body=body))


def load_run(session: Session, run_id: str) -> ReconRun:
    row = session.execute(select(runs.c.body).where(runs.c.id == run_id)).first()
    if row is None:
        raise RunNotFound(f"no reconciliation run {run_id!r}")
    body = dict(row[0])
    rows = body.pop(_ROWS, None)
    run = ReconRun.model_validate(body)
    if rows is not None:
        run.discrepancies = DiscrepancyList(frame=_decode(rows))
    return run


def list_runs(session: Session, *, engagement: str | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    query = select(runs.c.id, runs.c.engagement, runs.c.started_at, runs.c.verdict,
                   runs.c.counts).order_by(runs.c.started_at.desc()).limit(limit)
    if engagement:
        query = query.where(runs.c.engagement == engagement)
    return [dict(r._mapping) for r in session.execute(query)]


def applied_items(session: Session, run_id: str) -> set[str]:
    rows = session.execute(select(repairs.c.item_key).where(repairs.c.run_id == run_id))
    return {r[0] for r in rows}


def record_repair(session: Session, *, item_key: str, run_id: str, discrepancy_id: str,
                  kind: str, status: str, actor: str, details: dict[str, Any]) -> None:
    session.execute(insert(repairs).values(
        item_key=item_key, run_id=run_id, discrepancy_id=discrepancy_id, kind=kind,
        status=status, actor=actor, applied_at=datetime.now(UTC), details=details))
