"""When each job of an engagement falls due: fixed intervals split into numbered ticks, each
engagement's job shifted by a seeded offset (jitter) so 500 engagements do not all sync in
the same second, and the same seed always gives the same timetable.

Tick ``n`` of a job is due at ``n * interval + offset``; the job row is unique per
(engagement, kind, tick), which is what makes "once per tick" hold across workers. A shadow
re-run has no interval: its tick is derived from the handler version it tests.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from agents.autopilot.policy import JOB_KINDS, JobKind, Schedule

__all__ = ["DueJob", "due_jobs", "handler_version", "offset_seconds", "version_tick"]


class DueJob(BaseModel):
    engagement: str
    kind: JobKind
    tick: int
    due_at: datetime


def offset_seconds(seed: int, engagement: str, kind: str, interval: int, jitter: float) -> int:
    """A stable offset in [0, jitter * interval): same seed, same timetable."""
    rng = random.Random(f"{seed}:{engagement}:{kind}")
    return int(rng.random() * jitter * interval)


def due_jobs(engagement: str, schedule: Schedule, now: datetime, *, seed: int = 0
             ) -> list[DueJob]:
    """The current tick of every periodic job kind (missed earlier ticks are not replayed:
    the status view shows them as late)."""
    ts = now.timestamp()
    out: list[DueJob] = []
    for kind in JOB_KINDS:
        interval = schedule.interval(kind)
        if interval is None:
            continue
        offset = offset_seconds(seed, engagement, kind, interval, schedule.jitter)
        tick = math.floor((ts - offset) / interval)
        out.append(DueJob(engagement=engagement, kind=kind, tick=tick,
                          due_at=datetime.fromtimestamp(tick * interval + offset, UTC)))
    return out


def handler_version(profile: Path) -> str | None:
    """Digest of the engagement's declared handlers (integration.yaml), None when absent."""
    if not profile.is_file():
        return None
    return hashlib.sha256(profile.read_bytes()).hexdigest()


def version_tick(version: str) -> int:
    """A shadow job's tick: the handler version as a number (one run per version)."""
    return int(version[:12], 16)
