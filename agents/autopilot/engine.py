"""The autopilot: enqueue every engagement's due jobs, run them, send what needs sending.

Two ways to run, one code path:

- embedded (SQLite, `fde autopilot run`): an asyncio loop; each tick enqueues what is due and
  works every engagement concurrently in threads, one engagement's jobs in kind order
  (sync → map → checks → reconcile → shadow), so checks read the snapshot just synced;
- scaled out (PostgreSQL, several `fde autopilot worker` processes): each worker enqueues
  (the unique tick constraint makes that idempotent) and claims one job at a time with
  ``FOR UPDATE SKIP LOCKED``; a dead worker's job is taken again when its lease expires.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from agents.autopilot.budget import AccountBudget, live_workers
from agents.autopilot.jobs import JOB_RUNNERS, JobContext, JobSkipped
from agents.autopilot.notify import Sender, deliver_pending, http_sender, queue_sla_breaches
from agents.autopilot.policy import JOB_KINDS, JobKind
from agents.autopilot.policy_store import get_policy, signing_secret
from agents.autopilot.queue import ClaimedJob, claim, enqueue, finish, heartbeat
from agents.autopilot.schedule import DueJob, due_jobs, handler_version, version_tick
from agents.autopilot.shadow import DeclaredShadow, ShadowRunner
from agents.autopilot.sink import CaseTableSink, EscalationSink
from agents.autopilot.triager import Triager
from core import engagements
from core.engagements import Engagement
from core.ids import new_id
from core.logging import get_logger
from core.redact import redact_secrets
from core.secrets import secret_box
from core.settings import Settings
from core.storage import Database

__all__ = ["Autopilot", "AutopilotDeps", "JobRecord", "TickReport"]

log = get_logger("autopilot")
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AutopilotDeps:
    settings: Settings
    db: Database
    clock: Clock = _utcnow
    sink: EscalationSink = field(default_factory=CaseTableSink)
    shadow: ShadowRunner = field(default_factory=DeclaredShadow)
    triager: Triager | None = None
    sender: Sender = field(default_factory=http_sender)
    seed: int = 0
    lease_seconds: float = 120.0
    concurrency: int = 4
    worker_id: str = field(default_factory=lambda: new_id("apw"))


class JobRecord(BaseModel):
    engagement: str
    kind: JobKind
    tick: int
    attempt: int
    status: str  # done | skipped | failed | queued (failed, will retry) | lost_lease
    error: str | None = None


class TickReport(BaseModel):
    at: datetime
    enqueued: int
    jobs: list[JobRecord] = Field(default_factory=list)
    notifications: dict[str, int] = Field(default_factory=dict)


class Autopilot:
    def __init__(self, deps: AutopilotDeps) -> None:
        self.deps = deps
        self.box = secret_box(deps.settings)
        self.budget = AccountBudget()

    # -- scheduling -------------------------------------------------------------------------

    def engagements(self) -> list[Engagement]:
        with self.deps.db.session() as session:
            return engagements.list_all(session)

    def enqueue_due(self, now: datetime | None = None) -> int:
        """Insert the current tick of every engagement's jobs; returns how many were new."""
        from tools.checks.engagement import profile_path

        now = now or self.deps.clock()
        created = 0
        for eng in self.engagements():
            with self.deps.db.session() as session:
                schedule = get_policy(session, eng.name).policy.schedule
                due = due_jobs(eng.name, schedule, now, seed=self.deps.seed)
                version = handler_version(profile_path(self.deps.settings, eng.name))
                if schedule.shadow and version is not None:
                    due.append(DueJob(engagement=eng.name, kind="shadow",
                                      tick=version_tick(version), due_at=now))
                created += sum(enqueue(session, job) for job in due)
        return created

    # -- running ----------------------------------------------------------------------------

    def run_job(self, job: ClaimedJob) -> JobRecord:
        deps = self.deps
        with deps.db.session() as session:
            eng = engagements.get(session, job.engagement)
            policy = get_policy(session, job.engagement).policy
        ctx = JobContext(settings=deps.settings, db=deps.db, box=self.box, engagement=eng,
                         policy=policy, now=deps.clock(), budget=self.budget, sink=deps.sink,
                         shadow=deps.shadow, triager=deps.triager,
                         actor=f"autopilot:{deps.worker_id}")
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job, done), daemon=True)
        keeper.start()
        error = None
        try:
            result = JOB_RUNNERS[job.kind](ctx)
            outcome = "done"
        except JobSkipped as exc:
            result, outcome = {"skipped": str(exc)}, "skipped"
        except Exception as exc:  # noqa: BLE001 - any failure fails this attempt, not the loop
            result, outcome = None, "failed"
            error = redact_secrets(f"{type(exc).__name__}: {exc}")[:2000]
            log.warning("autopilot job failed", engagement=job.engagement, kind=job.kind,
                        attempt=job.attempt, error=error)
        finally:
            done.set()
            keeper.join()
        status = finish(deps.db, job, now=deps.clock(), outcome=outcome, result=result,
                        error=error)
        return JobRecord(engagement=job.engagement, kind=job.kind, tick=job.tick,
                         attempt=job.attempt, status=status, error=error)

    def _keep_lease(self, job: ClaimedJob, done: threading.Event) -> None:
        every = self.deps.lease_seconds / 3
        while not done.wait(every):
            if not heartbeat(self.deps.db, job, now=self.deps.clock(),
                             lease_seconds=self.deps.lease_seconds):
                log.warning("autopilot lease lost", job=job.id, engagement=job.engagement)
                return

    def _claim(self, *, engagement: str | None = None, kind: str | None = None
               ) -> ClaimedJob | None:
        return claim(self.deps.db, self.deps.worker_id, now=self.deps.clock(),
                     lease_seconds=self.deps.lease_seconds, engagement=engagement, kind=kind)

    def work_engagement(self, name: str) -> list[JobRecord]:
        """Every due job of one engagement, in kind order."""
        out: list[JobRecord] = []
        for kind in JOB_KINDS:
            while (job := self._claim(engagement=name, kind=kind)) is not None:
                out.append(self.run_job(job))
        return out

    def notify(self) -> dict[str, int]:
        now = self.deps.clock()
        totals = {"sent": 0, "failed": 0, "retry": 0, "sla_breaches": 0}
        for eng in self.engagements():
            with self.deps.db.session() as session:
                policy = get_policy(session, eng.name).policy
                totals["sla_breaches"] += queue_sla_breaches(session, eng.name, policy, now=now)
                secret = signing_secret(session, self.box, eng.name)
                for key, n in deliver_pending(session, eng.name, policy, secret,
                                              self.deps.sender, now=now).items():
                    totals[key] += n
        return totals

    async def tick_async(self) -> TickReport:
        now = self.deps.clock()
        enqueued = await asyncio.to_thread(self.enqueue_due, now)
        gate = asyncio.Semaphore(self.deps.concurrency)

        async def one(name: str) -> list[JobRecord]:
            async with gate:
                return await asyncio.to_thread(self.work_engagement, name)

        names = [e.name for e in await asyncio.to_thread(self.engagements)]
        batches = await asyncio.gather(*(one(n) for n in names))
        sent = await asyncio.to_thread(self.notify)
        return TickReport(at=now, enqueued=enqueued, jobs=[j for b in batches for j in b],
                          notifications=sent)

    def run_once(self) -> TickReport:
        """One tick for every engagement (`fde autopilot run --once`)."""
        return asyncio.run(self.tick_async())

    async def serve(self, stop: asyncio.Event, *, poll_seconds: float = 30.0) -> None:
        """The embedded scheduler: a tick, then wait for the next poll or ``stop``."""
        while not stop.is_set():
            report = await self.tick_async()
            if report.jobs:
                log.info("autopilot tick", jobs=len(report.jobs), enqueued=report.enqueued)
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                continue

    def serve_worker(self, stop: threading.Event, *, poll_seconds: float = 5.0,
                     schedule: bool = True) -> int:
        """A worker process's loop (PostgreSQL): claim, run, repeat; returns jobs run."""
        ran = 0
        while not stop.is_set():
            now = self.deps.clock()
            self.budget.rebalance(live_workers(self.deps.db, self.deps.worker_id, now=now,
                                               ttl_seconds=max(3 * poll_seconds, 10.0)))
            if schedule:
                self.enqueue_due(now)
            job = self._claim()
            if job is None:
                stop.wait(poll_seconds)
                continue
            self.run_job(job)
            ran += 1
        return ran
