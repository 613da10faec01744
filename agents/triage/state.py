"""Typed state of the triage graph (JSON values and LangChain messages only, so any
checkpointer can store it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agents.planners.base import Emit, Planner
from tools.envelope import ToolContext
from tools.registry import Registry


class TriageState(TypedDict, total=False):
    ticket: str  # redacted after the `redact` node
    engagement: str
    facts: dict[str, Any]
    category: str
    # the planner's model conversation (none for the offline planner): it lives here, not
    # on the planner, so runs sharing a planner never see each other's turns and a resumed
    # run continues from its last checkpointed step
    messages: Annotated[list[AnyMessage], add_messages]
    gathering: bool  # the planner asked for another gathering step
    calls: list[dict[str, Any]]
    diagnosis: dict[str, Any]
    decision: dict[str, Any] | None
    executed: list[dict[str, Any]]
    status: str
    notes: list[str]
    struck: list[dict[str, Any]]  # what `verify` removed from the answer (see nodes.verify)


def _quiet(kind: str, payload: dict[str, Any]) -> None:
    return None


@dataclass
class TriageDeps:
    """The graph's runtime context: injected per run, never stored in a checkpoint."""

    planner: Planner
    registry: Registry
    tools: ToolContext
    emit: Emit = field(default=_quiet)
    planner_note: str = ""
