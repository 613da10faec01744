"""Running the triage graph on a case: the case becomes a ticket (what was found, on which
object, with which evidence), the graph diagnoses it with the engagement's real tools, and
the outcome (thread, status, diagnosis, pending interrupt) is kept on the case."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from agents.autopilot.cases import Case
from tools.envelope import ToolContext

__all__ = ["GraphTriager", "TriageOutcome", "Triager", "case_ticket"]


class TriageOutcome(BaseModel):
    thread_id: str
    status: str
    diagnosis: dict[str, Any] | None = None
    interrupt: dict[str, Any] | None = None


class Triager(Protocol):
    def triage(self, case: Case, tools: ToolContext) -> TriageOutcome: ...


def case_ticket(case: Case) -> str:
    what = "detector finding" if case.source == "finding" else "reconciliation difference"
    subject = f"{case.entity} {case.object_id}" if case.entity else case.object_id
    return (f"Autopilot {what} {case.kind} on {subject}: {case.summary}. "
            f"Evidence: {', '.join(case.evidence[:5]) or 'none'}.")


class GraphTriager:
    """The triage graph with a planner and a checkpointer; escalations stay resumable with
    `fde triage resume THREAD` because the thread lives in the shared checkpointer."""

    def __init__(self, planner: Any, *, checkpointer: Any, registry: Any = None,
                 planner_note: str = "") -> None:
        from agents.triage import build_triage_graph
        from tools.registry import default_registry

        self._planner = planner
        self._note = planner_note
        self._registry = registry or default_registry()
        self._graph = build_triage_graph(checkpointer)

    def triage(self, case: Case, tools: ToolContext) -> TriageOutcome:
        from agents.triage import start_triage
        from agents.triage.state import TriageDeps

        deps = TriageDeps(planner=self._planner, registry=self._registry, tools=tools,
                          planner_note=self._note)
        result = start_triage(self._graph, deps, ticket=case_ticket(case),
                              engagement=case.engagement,
                              thread_id=f"thr_{case.id}_{case.seen_count}")
        return TriageOutcome(
            thread_id=result.thread_id, status=result.status,
            diagnosis=result.diagnosis.model_dump(mode="json") if result.diagnosis else None,
            interrupt=result.interrupt.model_dump(mode="json") if result.interrupt else None)


