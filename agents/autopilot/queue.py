"""The job queue in the app database: enqueue a tick (once, whatever the number of
schedulers), claim it (one worker), keep a lease while running, finish it.

On PostgreSQL workers claim with ``FOR UPDATE SKIP LOCKED``, so several processes never wait
on or take the same row; on SQLite the claim is the same statement without the lock clause
(SQLite serialises writers). Either way the claim is a conditional UPDATE, so a row is only
ever taken from ``queued`` or from an expired lease. A worker that dies keeps its lease until
it expires; the next claim takes the job again (attempts + 1).

An engagement's jobs run one at a time, in kind order within a tick: two reconciles of one
engagement side by side would both see the same stale row and both repair it. On PostgreSQL
claims are serialised by a transaction-scoped advisory lock so that this check cannot race.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from agents.autopilot.policy import JOB_KINDS, JobKind
from agents.autopilot.schedule import DueJob
from agents.autopilot.tables import attempts, aware, jobs
from core.ids import new_id
from core.storage import Database

__all__ = ["ClaimedJob", "claim", "enqueue", "finish", "heartbeat"]

MAX_ATTEMPTS = 3


class ClaimedJob(BaseModel):
    id: str
    engagement: str
    kind: JobKind
    tick: int
    due_at: datetime
    attempt: int
    worker: str


def enqueue(session: Session, job: DueJob) -> bool:
    """Insert the tick's job unless it exists; True when this call created it."""
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = builder(jobs).values(
        id=new_id("apj"), engagement=job.engagement, kind=job.kind, tick=job.tick,
        due_at=job.due_at, status="queued", attempts=0,
    ).on_conflict_do_nothing(index_elements=["engagement", "kind", "tick"])
    return bool(session.execute(stmt).rowcount)


_KIND_RANK = {kind: rank for rank, kind in enumerate(JOB_KINDS)}
CLAIM_LOCK = 0x0FDE_A07  # pg_advisory_xact_lock key: one claim at a time across workers


def _claimable(now: datetime) -> Any:
    return or_(and_(jobs.c.status == "queued", jobs.c.due_at <= now),
               and_(jobs.c.status == "running", jobs.c.lease_expires_at < now))


def _engagement_free(now: datetime) -> Any:
    """No other job of the same engagement is running under a live lease."""
    other = jobs.alias("other")
    return ~exists().where(
        other.c.engagement == jobs.c.engagement, other.c.id != jobs.c.id,
        other.c.status == "running", other.c.lease_expires_at >= now)


def claim(db: Database, worker: str, *, now: datetime, lease_seconds: float,
          engagement: str | None = None, kind: str | None = None) -> ClaimedJob | None:
    """Take the oldest due job (or one whose worker's lease ran out)."""
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
        # kind order breaks ties: ids are only millisecond-sortable, and a reconcile taken
        # before its tick's sync would compare against the previous snapshot
        query = select(jobs).where(_claimable(now), _engagement_free(now)).order_by(
            jobs.c.due_at, case(_KIND_RANK, value=jobs.c.kind, else_=len(JOB_KINDS)),
            jobs.c.id).limit(1)
        if engagement is not None:
            query = query.where(jobs.c.engagement == engagement)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        row = session.execute(query.with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        attempt = row.attempts + 1
        taken = session.execute(update(jobs).where(jobs.c.id == row.id, _claimable(now)).values(
            status="running", attempts=attempt, lease_owner=worker,
            lease_expires_at=now + timedelta(seconds=lease_seconds), started_at=now,
        )).rowcount
        if taken != 1:
            return None
        session.execute(attempts.insert().values(job_id=row.id, attempt=attempt, worker=worker,
                                                 started_at=now))
    return ClaimedJob(id=row.id, engagement=row.engagement, kind=row.kind, tick=row.tick,
                      due_at=aware(row.due_at), attempt=attempt, worker=worker)


def heartbeat(db: Database, job: ClaimedJob, *, now: datetime, lease_seconds: float) -> bool:
    """Extend the lease; False when another worker has taken the job over."""
    with db.session() as session:
        return bool(session.execute(update(jobs).where(
            jobs.c.id == job.id, jobs.c.lease_owner == job.worker, jobs.c.status == "running",
        ).values(lease_expires_at=now + timedelta(seconds=lease_seconds))).rowcount)


def finish(db: Database, job: ClaimedJob, *, now: datetime, outcome: str,
           result: dict[str, Any] | None = None, error: str | None = None,
           retry_in: float = 30.0) -> str:
    """Record the attempt; a failed attempt goes back to the queue until MAX_ATTEMPTS.

    Only the lease owner may finish: a worker that lost its lease (it was too slow and the
    job was retried elsewhere) records its attempt but leaves the job alone."""
    with db.session() as session:
        session.execute(update(attempts).where(
            attempts.c.job_id == job.id, attempts.c.attempt == job.attempt,
        ).values(finished_at=now, outcome=outcome))
        status = outcome
        values: dict[str, Any] = {"finished_at": now, "result": result, "error": error,
                                  "lease_owner": None, "lease_expires_at": None}
        if outcome == "failed" and job.attempt < MAX_ATTEMPTS:
            status = "queued"
            values["due_at"] = now + timedelta(seconds=retry_in)
        owned = session.execute(update(jobs).where(
            jobs.c.id == job.id, jobs.c.lease_owner == job.worker,
        ).values(status=status, **values)).rowcount
        return status if owned else "lost_lease"
