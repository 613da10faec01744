"""A whole eval run: load scenarios, run every case (inputs only), score each answer against
its expectation, aggregate, report."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from evals.report import CaseReport, SuiteReport
from evals.runner import CaseRun, PlannerFactory, run_cases
from evals.scenario import Scenario
from evals.score import aggregate, score_case
from evals.worlds import WorldCache

__all__ = ["DEFAULT_WORLDS", "run_suite"]

DEFAULT_WORLDS = Path(".fde") / "worlds" / "evals"


def run_suite(scenarios: list[Scenario], *, worlds: WorldCache,
              planner: str | PlannerFactory = "offline", jobs: int = 1,
              only: str | None = None,
              on_case: Callable[[CaseRun], None] = lambda _: None) -> SuiteReport:
    by_id = {s.id: s for s in scenarios}
    t0 = time.perf_counter()
    reports: dict[str, CaseReport] = {}
    for run in run_cases([s.input() for s in scenarios], worlds=worlds, planner=planner,
                         jobs=jobs):
        scenario = by_id[run.id]
        score = score_case(run, scenario.expected)
        d = run.diagnosis
        reports[run.id] = CaseReport(
            id=run.id, title=scenario.title, area=scenario.area, tags=scenario.tags,
            passed=score.passed, status=run.status, outcome=d.outcome if d else None,
            failure_mode=d.failure_mode if d else None, category=d.category if d else None,
            expected_failure_modes=scenario.expected.failure_modes, score=score,
            explanation=d.explanation if d else "", error=run.error)
        on_case(run)
    cases = [reports[s.id] for s in scenarios]
    name = planner if isinstance(planner, str) else getattr(planner(), "name", "custom")
    return SuiteReport(planner=name, jobs=jobs, only=only,
                       wall_s=round(time.perf_counter() - t0, 2),
                       metrics=aggregate([c.score for c in cases]), cases=cases)
