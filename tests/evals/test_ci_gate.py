"""The CI gate: the `ci` subset of the suite through the runner, held to the same bars as
the full suite (`make eval`). Its worlds are the ones tests/agents builds, shared."""

from __future__ import annotations

import pytest

from evals.scenario import load_scenarios
from evals.suite import run_suite


@pytest.mark.slow
def test_ci_subset_meets_thresholds(offline, eval_worlds):
    scenarios = load_scenarios(only="ci")
    assert len(scenarios) >= 8
    report = run_suite(scenarios, worlds=eval_worlds, planner=offline, only="ci")
    m = report.metrics
    failed = {c.id: [d.model_dump() for d in c.score.diffs] for c in report.cases if not c.passed}
    assert m.failure_mode_accuracy >= 0.9, failed
    assert m.escalation_precision >= 0.9 and m.escalation_recall >= 0.9, failed
    assert m.fabricated_items == 0 and m.forbidden_violations == 0, failed
    assert m.category_accuracy >= 0.9, failed
