"""An engagement's health scorecard: integration standards met (checks evaluated without an
open finding), open findings by severity, the reconciliation verdict trend, webhook delivery
health, and the autopilot's open cases. A function returning a pydantic model, for the CLI
today and the API/console later."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.autopilot.tables import cases, jobs
from tools.checks.store import findings
from tools.recon.store import runs as recon_runs
from tools.webhooks.tables import events as webhook_events

__all__ = ["Scorecard", "scorecard"]


class Scorecard(BaseModel):
    engagement: str
    at: datetime
    standards_met: int | None = Field(description="checks evaluated with no open finding")
    standards_evaluated: int | None = None
    open_findings: dict[str, int] = Field(default_factory=dict, description="by severity")
    recon_trend: list[str] = Field(default_factory=list, description="newest first")
    webhooks: dict[str, int] = Field(default_factory=dict, description="received events by "
                                     "processing status")
    cases: dict[str, int] = Field(default_factory=dict)
    grade: str = Field(description="healthy | attention | critical")


def scorecard(session: Session, engagement: str, *, now: datetime, trend: int = 5) -> Scorecard:
    severity = dict(session.execute(select(findings.c.severity, func.count()).where(
        findings.c.engagement == engagement, findings.c.resolved_at.is_(None))
        .group_by(findings.c.severity)).all())
    last_checks = session.execute(select(jobs.c.result).where(
        jobs.c.engagement == engagement, jobs.c.kind == "checks", jobs.c.status == "done")
        .order_by(jobs.c.finished_at.desc()).limit(1)).scalar()
    met = evaluated = None
    if last_checks:
        evaluated_ids = set(last_checks.get("evaluated", []))
        failing = {c for (c,) in session.execute(select(findings.c.check_id).where(
            findings.c.engagement == engagement, findings.c.resolved_at.is_(None))).all()}
        evaluated, met = len(evaluated_ids), len(evaluated_ids - failing)
    verdicts = [v for (v,) in session.execute(select(recon_runs.c.verdict).where(
        recon_runs.c.engagement == engagement).order_by(recon_runs.c.started_at.desc())
        .limit(trend)).all()]
    deliveries = dict(session.execute(select(webhook_events.c.status, func.count()).where(
        webhook_events.c.engagement == engagement).group_by(webhook_events.c.status)).all())
    open_cases = dict(session.execute(select(cases.c.status, func.count()).where(
        cases.c.engagement == engagement).group_by(cases.c.status)).all())
    grade = "healthy"
    if severity or open_cases.get("escalated") or (verdicts and verdicts[0] == "BREAKS"):
        grade = "attention"
    if severity.get("critical") or deliveries.get("failed", 0) > deliveries.get("processed", 0):
        grade = "critical"
    return Scorecard(engagement=engagement, at=now, standards_met=met,
                     standards_evaluated=evaluated, open_findings=severity,
                     recon_trend=verdicts, webhooks=deliveries, cases=open_cases, grade=grade)
