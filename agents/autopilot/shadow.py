"""Shadow re-runs: the autopilot replays the shadow test declared in the engagement's
integration.yaml (`shadow:`, see tools/shadow/plan.py) once per version of that file, so
deploying a candidate handler (a new file) gets a shadow run without anyone starting it.

A run that does not PASS becomes a case for an engineer (`handle_shadow`); whether a
candidate ships is a judgment call, never the autopilot's. No declared plan is a skipped job
and no signing secret where the autopilot runs a failed one, each with the reason: never a
pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from agents.autopilot.cases import CaseItem

if TYPE_CHECKING:
    from agents.autopilot.jobs import JobContext

__all__ = ["DeclaredShadow", "ShadowOutcome", "ShadowRunner", "case_item"]

TOP = 5


class ShadowOutcome(BaseModel):
    status: str  # PASS | FAIL | INCONCLUSIVE | unavailable
    detail: str
    run_id: str | None = None
    candidate: str | None = None
    evidence: list[str] = []


class ShadowRunner(Protocol):
    """What the shadow job calls (`AutopilotDeps.shadow`)."""

    def run(self, ctx: JobContext, *, handler_version: str) -> ShadowOutcome: ...


class DeclaredShadow:
    """Runs the integration profile's `shadow:` plan and stores the run for the API."""

    def run(self, ctx: JobContext, *, handler_version: str) -> ShadowOutcome:
        from tools.checks.engagement import profile_path
        from tools.checks.sources import load_profile
        from tools.shadow import store
        from tools.shadow.plan import run_plan

        plan = load_profile(profile_path(ctx.settings, ctx.engagement.name)).shadow
        if plan is None:
            return ShadowOutcome(status="unavailable", detail="no shadow test declared: add a "
                                 "`shadow:` section to the engagement's integration.yaml")
        # a missing signing secret or a bad handler spec fails the attempt: the queue retries
        # it (someone may fix the setup), and the status view shows why
        report = run_plan(plan, secret=plan.secret(), engagement=ctx.engagement.name)
        with ctx.db.session() as session:
            store.save_run(session, report)
        top = report.top_mismatches[:TOP]
        detail = "; ".join([*report.reasons, *(f"{m.event_type or m.kind}: {m.detail}"
                                                for m in top)])
        return ShadowOutcome(
            status=report.verdict.value, run_id=report.run.id, candidate=plan.candidate.name,
            detail=detail or f"{report.run.corpus_events} events replayed, no mismatch",
            evidence=[report.run.id, *dict.fromkeys(m.event_id for m in top if m.event_id)])


def case_item(outcome: ShadowOutcome, handler_version: str) -> CaseItem | None:
    """The case a shadow run opens (None when it passed)."""
    if outcome.status == "PASS":
        return None
    item: dict[str, Any] = outcome.model_dump()
    return CaseItem(source="shadow", kind="shadow.webhook_replay",
                    object_id=f"{outcome.candidate}@{handler_version[:12]}",
                    severity="high" if outcome.status == "FAIL" else "medium",
                    summary=f"shadow run {outcome.run_id} of {outcome.candidate}: "
                            f"{outcome.status}: {outcome.detail}"[:2000],
                    evidence=outcome.evidence, item=item)
