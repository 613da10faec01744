"""Running eval cases: build (or reuse) the world, run the triage graph on the ticket, and
record what came out — the answer and the full tool transcript, nothing expected.

`run_case` takes a `CaseInput` (world + ticket) only: the scenario's `expected` block never
reaches the graph, its deps or the tools. Scoring happens afterwards (`evals.score`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.models import Diagnosis
from agents.planners.base import Planner
from evals.scenario import CaseInput
from evals.worlds import WorldCache

__all__ = ["CaseRun", "PlannerFactory", "make_planner", "run_case", "run_cases"]

PlannerFactory = Callable[[], Planner]


class CaseRun(BaseModel):
    """What one triage run produced."""

    id: str
    status: str
    diagnosis: Diagnosis | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    executed: list[dict[str, Any]] = Field(default_factory=list)
    escalation: dict[str, Any] | None = None
    notes: list[str] = Field(default_factory=list)
    struck: list[dict[str, Any]] = Field(
        default_factory=list, description="what verification removed from the answer")
    latency_s: float = 0.0
    world_s: float = 0.0
    tokens: int = Field(default=0, description="streamed model tokens (LLM planner only)")
    error: str | None = None


_planners: dict[str, Planner] = {}


def make_planner(kind: str) -> Planner:
    """One planner per process and kind (the offline one loads the MiniLM embedder once)."""
    import os

    from agents.planners.base import select_planner

    if kind not in _planners:
        _planners[kind], _ = select_planner(dict(os.environ), prefer=kind)
    return _planners[kind]


def run_case(case: CaseInput, *, worlds: WorldCache, planner: Planner) -> CaseRun:
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.triage import build_triage_graph, start_triage
    from agents.triage.state import TriageDeps
    from core.errors import FdeError
    from tools.registry import default_registry

    t0 = time.perf_counter()
    tools = worlds.tool_context(case.world, case.id)
    world_s = time.perf_counter() - t0
    tokens = 0

    def emit(kind: str, payload: dict[str, Any]) -> None:
        nonlocal tokens
        if kind == "token":
            tokens += 1

    deps = TriageDeps(planner=planner, registry=default_registry(), tools=tools, emit=emit,
                      planner_note=f"{planner.name} planner (eval)")
    t1 = time.perf_counter()
    try:
        result = start_triage(build_triage_graph(InMemorySaver()), deps, ticket=case.ticket,
                              engagement=case.world.engagement.name)
    except FdeError as exc:
        return CaseRun(id=case.id, status="error", error=f"{exc.message} ({exc.hint or ''})",
                       latency_s=time.perf_counter() - t1, world_s=world_s, tokens=tokens)
    return CaseRun(id=case.id, status=result.status, diagnosis=result.diagnosis,
                   tool_calls=result.tool_calls, executed=result.executed,
                   escalation=result.interrupt.value if result.interrupt else None,
                   notes=result.notes, struck=result.struck,
                   latency_s=time.perf_counter() - t1, world_s=world_s, tokens=tokens)


def _in_worker(case_json: str, root: str, kind: str, indexed: bool) -> str:
    from agents.wiring import knowledge_opener

    case = CaseInput.model_validate_json(case_json)
    worlds = WorldCache(Path(root), knowledge=knowledge_opener() if indexed else None)
    run = run_case(case, worlds=worlds, planner=make_planner(kind))
    return run.model_dump_json()


def run_cases(cases: list[CaseInput], *, worlds: WorldCache,
              planner: str | PlannerFactory, jobs: int = 1) -> Iterator[CaseRun]:
    """Runs in completion order. With jobs > 1 (and a planner kind, not a factory) cases run
    in worker processes, grouped so that cases sharing a world are spread after its build."""
    if jobs <= 1 or callable(planner):
        factory = planner if callable(planner) else (lambda: make_planner(planner))
        for case in cases:
            yield run_case(case, worlds=worlds, planner=factory())
        return
    ordered = sorted(cases, key=lambda c: c.world.world_key)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        indexed = worlds.knowledge is not None  # an opener is not picklable: reopened there
        futures = [pool.submit(_in_worker, c.model_dump_json(), str(worlds.root), planner,
                               indexed) for c in ordered]
        for future in as_completed(futures):
            yield CaseRun.model_validate_json(future.result())
