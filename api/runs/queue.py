"""The run queue: claim a pending run (or one whose lease expired) with a lease, renew the
lease while running, finish it only while still holding the lease.

On PostgreSQL the claim is `SELECT … FOR UPDATE SKIP LOCKED`, so several `fde serve`
processes share the queue without two of them taking one run; SQLite serialises writers,
and the conditional UPDATE makes the claim atomic there too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from api.runs.notify import RUNS, notify_in
from api.runs.store import now
from api.tables import runs
from core.storage import Database

__all__ = ["Claimed", "claim_next", "finish", "release", "renew"]


@dataclass(frozen=True)
class Claimed:
    run_id: str
    thread_id: str
    assistant_id: str
    kwargs: dict[str, Any]
    actor: str
    attempts: int


def claim_next(db: Database, worker: str, lease_seconds: float) -> Claimed | None:
    at = now()
    claimable = sa.or_(runs.c.status == "pending",
                       sa.and_(runs.c.status == "running", runs.c.lease_expires_at < at))
    query = sa.select(runs.c.run_id).where(claimable).order_by(runs.c.created_at).limit(1)
    with db.session() as session:
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        run_id = session.scalar(query)
        if run_id is None:
            return None
        done = session.execute(
            runs.update().where(runs.c.run_id == run_id, claimable).values(
                status="running", lease_owner=worker, updated_at=at,
                lease_expires_at=at + timedelta(seconds=lease_seconds),
                attempts=runs.c.attempts + 1)).rowcount
        if not done:  # another SQLite writer took it between our read and write
            return None
        row = session.execute(sa.select(runs).where(runs.c.run_id == run_id)).one()
    return Claimed(run_id=row.run_id, thread_id=row.thread_id, assistant_id=row.assistant_id,
                   kwargs=row.kwargs, actor=row.actor, attempts=row.attempts)


def renew(db: Database, run_id: str, worker: str, lease_seconds: float) -> tuple[bool, bool]:
    """(still ours, cancel requested)."""
    at = now()
    with db.session() as session:
        held = session.execute(runs.update().where(
            runs.c.run_id == run_id, runs.c.lease_owner == worker,
            runs.c.status == "running").values(
                lease_expires_at=at + timedelta(seconds=lease_seconds))).rowcount
        cancel = session.scalar(sa.select(runs.c.cancel_requested)
                                .where(runs.c.run_id == run_id))
    return bool(held), bool(cancel)


def finish(db: Database, run_id: str, worker: str, status: str, error: str | None = None
           ) -> bool:
    """Mark the run done; False when the lease was lost (another worker owns it now)."""
    with db.session() as session:
        return bool(session.execute(runs.update().where(
            runs.c.run_id == run_id, runs.c.lease_owner == worker,
            runs.c.status == "running").values(
                status=status, error=error, updated_at=now(), lease_expires_at=None)).rowcount)


def release(db: Database, run_id: str, worker: str) -> None:
    """Hand a run back to the queue (its process is shutting down)."""
    with db.session() as session:
        session.execute(runs.update().where(
            runs.c.run_id == run_id, runs.c.lease_owner == worker,
            runs.c.status == "running").values(
                status="pending", lease_owner=None, lease_expires_at=None, updated_at=now()))
        notify_in(session, RUNS, run_id)  # another process's idle worker takes it now
