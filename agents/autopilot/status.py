"""What the autopilot did: per engagement the last run of each job kind, what is late (due
and not started, a lease that ran out, a tick that never got a job) and what failed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.autopilot.policy import Schedule
from agents.autopilot.schedule import due_jobs
from agents.autopilot.tables import aware, cases, jobs

__all__ = ["EngagementStatus", "JobView", "engagement_status"]


class JobView(BaseModel):
    kind: str
    tick: int
    due_at: datetime
    status: str
    attempts: int
    finished_at: datetime | None = None
    error: str | None = None
    result: dict[str, Any] | None = None


class EngagementStatus(BaseModel):
    engagement: str
    last: dict[str, JobView] = Field(default_factory=dict)
    late: list[str] = Field(default_factory=list)
    failed: list[JobView] = Field(default_factory=list)
    cases: dict[str, int] = Field(default_factory=dict)


def _view(row: Any) -> JobView:
    return JobView(kind=row.kind, tick=row.tick, due_at=aware(row.due_at), status=row.status,
                   attempts=row.attempts, finished_at=aware(row.finished_at), error=row.error,
                   result=row.result)


def engagement_status(session: Session, engagement: str, schedule: Schedule, *,
                      now: datetime, seed: int = 0) -> EngagementStatus:
    out = EngagementStatus(engagement=engagement)
    rows = session.execute(select(jobs).where(jobs.c.engagement == engagement)
                           .order_by(jobs.c.due_at)).all()
    for row in rows:
        view = _view(row)
        if row.status in ("done", "skipped", "failed"):
            out.last[row.kind] = view
        if row.status == "failed":
            out.failed.append(view)
        grace = timedelta(seconds=max(60, (schedule.interval(row.kind) or 600) // 10))
        if row.status == "queued" and view.due_at + grace < now:
            out.late.append(f"{row.kind} tick {row.tick} due {view.due_at:%Y-%m-%d %H:%M} "
                            f"not started ({row.attempts} attempt(s))")
        lease = aware(row.lease_expires_at)
        if row.status == "running" and lease is not None and lease < now:
            out.late.append(f"{row.kind} tick {row.tick}: its worker's lease ran out at "
                            f"{lease:%H:%M:%S}; the next worker retries it")
    ticks = {(r.kind, r.tick) for r in rows}
    for due in due_jobs(engagement, schedule, now, seed=seed):
        previous = due.tick - 1
        interval = schedule.interval(due.kind) or 0
        if (due.kind, previous) not in ticks and (due.kind, due.tick) not in ticks and rows:
            out.late.append(f"{due.kind}: no run for the current tick (due "
                            f"{due.due_at:%Y-%m-%d %H:%M}) nor the one {interval} s before: "
                            "is a scheduler running?")
    counts = session.execute(select(cases.c.status, func.count()).where(
        cases.c.engagement == engagement).group_by(cases.c.status)).all()
    out.cases = {status: n for status, n in counts}
    return out
