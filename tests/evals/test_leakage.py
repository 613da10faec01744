"""Leakage guard: the run sees the world and the ticket, never the scenario's expectation.

A sentinel and a failure-mode id placed only in `expected` must not reach anything the run
touches: the case input, the planner's arguments (ticket, facts, tool outputs), the full
transcript, or the tool context. And scoring compares an answer with the expectation it is
handed: the same answer against another scenario's expectation scores lower.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from evals.runner import run_case
from evals.scenario import SCENARIOS_DIR, CaseInput, load_scenario
from evals.score import score_case


class SpyPlanner:
    """Wraps the offline planner and records every argument the graph hands it."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.name, self.seen = inner, inner.name, []

    def classify(self, ticket: str) -> str:
        self.seen.append(ticket)
        return self.inner.classify(ticket)

    def gather(self, **kw):  # noqa: ANN003, ANN201
        self.seen.append(repr({k: v for k, v in kw.items() if k not in ("run", "emit")}))
        return self.inner.gather(**kw)

    def diagnose(self, **kw):  # noqa: ANN003, ANN201
        self.seen.append(repr({k: v for k, v in kw.items() if k not in ("run", "emit")}))
        return self.inner.diagnose(**kw)


def test_expected_fields_are_unreachable_from_the_run(offline, eval_worlds):
    scenario = load_scenario(SCENARIOS_DIR / "clean-numbers-feel-off.yaml")
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    planted = scenario.model_copy(update={"expected": scenario.expected.model_copy(update={
        "note": sentinel, "failure_modes": ["FM-29"], "forbidden_actions": [sentinel]})})
    case = planted.input()
    assert set(CaseInput.model_fields) == {"id", "world", "ticket"}
    assert sentinel not in case.model_dump_json() and "FM-29" not in case.model_dump_json()

    spy = SpyPlanner(offline())
    run = run_case(case, worlds=eval_worlds, planner=spy)
    tools = eval_worlds.tool_context(case.world, case.id)
    reachable = "\n".join([*spy.seen, run.model_dump_json(), repr(vars(tools)),
                           str(Path(tools.snapshot.root))])
    assert spy.seen and run.tool_calls, "the run must have done something to check"
    for secret in (sentinel, "FM-29"):
        assert secret not in reachable

    right = score_case(run, scenario.expected)
    wrong = score_case(run, load_scenario(SCENARIOS_DIR / "payments-yen-too-small.yaml").expected)
    assert right.passed and not wrong.passed and len(wrong.diffs) > len(right.diffs)
