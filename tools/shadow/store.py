"""Stored shadow runs (table from migration 0005_shadow), for `fde shadow show` and the API."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from tools.shadow.errors import ShadowRunNotFound
from tools.shadow.models import RunSummary, ShadowRun

__all__ = ["get_run", "list_runs", "save_run"]

_meta = MetaData()
runs = Table(
    "shadow_runs", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("mode", String(32)), Column("verdict", String(16)),
    Column("primary_name", String(128)), Column("candidate_name", String(128)),
    Column("corpus_hash", String(80)), Column("started_at", DateTime(timezone=True)),
    Column("mismatches", Integer), Column("body", JSON),
)


def save_run(session: Session, run: ShadowRun) -> None:
    session.execute(insert(runs).values(
        id=run.run.id, engagement=run.run.engagement, mode=run.run.mode,
        verdict=run.verdict.value, primary_name=run.run.primary,
        candidate_name=run.run.candidate, corpus_hash=run.run.corpus_hash,
        started_at=run.run.started_at, mismatches=len(run.mismatches),
        body=run.model_dump(mode="json")))


def get_run(session: Session, run_id: str) -> ShadowRun:
    row = session.execute(select(runs.c.body).where(runs.c.id == run_id)).first()
    if row is None:
        raise ShadowRunNotFound(f"no shadow run {run_id!r}")
    return ShadowRun.model_validate(row[0])


def list_runs(session: Session, engagement: str | None = None, *,
              limit: int = 50) -> list[RunSummary]:
    query = select(runs.c.id, runs.c.engagement, runs.c.mode, runs.c.verdict,
                   runs.c.primary_name, runs.c.candidate_name, runs.c.corpus_hash,
                   runs.c.started_at, runs.c.mismatches).order_by(
        runs.c.started_at.desc()).limit(limit)
    if engagement:
        query = query.where(runs.c.engagement == engagement)
    return [RunSummary(id=r.id, engagement=r.engagement, mode=r.mode, verdict=r.verdict,
                       primary=r.primary_name, candidate=r.candidate_name,
                       corpus_hash=r.corpus_hash, started_at=r.started_at,
                       mismatches=r.mismatches) for r in session.execute(query)]
