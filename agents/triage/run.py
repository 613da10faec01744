"""Running triage: start a thread, or resume it with an engineer's decision (strictly: the
interrupt id must be the one pending, or it is an error)."""

from __future__ import annotations

from typing import Any

from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.escalation import Decision
from agents.models import Diagnosis
from agents.triage.state import TriageDeps
from core.errors import ConfigError, NotFoundError
from core.ids import new_id
from core.redact import redact

__all__ = ["DURABILITY", "PendingInterrupt", "TriageResult", "resume_triage", "start_triage"]

DURABILITY = "sync"
"""Each step's checkpoint is written before the next step starts (LangGraph's default,
"async", writes it while the next step runs, so a process killed during a model call
could lose the step before it and pay for it twice on resume)."""


class PendingInterrupt(BaseModel):
    id: str
    value: dict[str, Any]


class TriageResult(BaseModel):
    thread_id: str
    status: str  # resolved | escalated | no_defect_found | cannot_prove | rejected | ...
    diagnosis: Diagnosis | None = None
    interrupt: PendingInterrupt | None = None
    executed: list[dict[str, Any]] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    struck: list[dict[str, Any]] = Field(
        default_factory=list, description="what verification removed from the answer: "
        "{kind: ids, ids} or {kind: action, name, args}")


def _result(graph: Any, thread_id: str) -> TriageResult:
    snap = graph.get_state({"configurable": {"thread_id": thread_id}})
    values = snap.values or {}
    pending = [PendingInterrupt(id=i.id, value=i.value) for i in snap.interrupts]
    return TriageResult(
        thread_id=thread_id, status="escalated" if pending else values.get("status", "unknown"),
        diagnosis=Diagnosis.model_validate(values["diagnosis"]) if values.get("diagnosis")
        else None, interrupt=pending[0] if pending else None,
        executed=values.get("executed", []), tool_calls=values.get("calls", []),
        notes=[n for n in values.get("notes", []) if n], struck=values.get("struck", []))


def start_triage(graph: Any, deps: TriageDeps, *, ticket: str, engagement: str,
                 thread_id: str | None = None) -> TriageResult:
    if not ticket or not ticket.strip():
        raise ConfigError("the ticket is empty", hint='pass the user\'s words: fde triage "..."')
    tid = thread_id or new_id("thr")
    # redacted at the door: the graph's first checkpoint stores its input as given
    graph.invoke({"ticket": redact(ticket.strip()), "engagement": engagement},
                 {"configurable": {"thread_id": tid}}, context=deps, durability=DURABILITY)
    return _result(graph, tid)


def resume_triage(graph: Any, deps: TriageDeps, *, thread_id: str, interrupt_id: str,
                  decision: Decision | dict[str, Any]) -> TriageResult:
    snap = graph.get_state({"configurable": {"thread_id": thread_id}})
    if not snap.values:
        raise NotFoundError(f"no triage thread {thread_id!r}",
                            hint="start one with `fde triage`; check FDE_DATABASE_URL")
    pending = {i.id for i in snap.interrupts}
    if not pending:
        raise ConfigError(f"thread {thread_id} is not waiting for a decision")
    if interrupt_id not in pending:
        raise ConfigError(f"interrupt {interrupt_id!r} is not pending on thread {thread_id}",
                          hint=f"pending: {', '.join(sorted(pending))}")
    value = Decision.model_validate(decision).model_dump(mode="json")
    graph.invoke(Command(resume={interrupt_id: value}), {"configurable": {"thread_id": thread_id}},
                 context=deps, durability=DURABILITY)
    return _result(graph, thread_id)
