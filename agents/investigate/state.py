"""Typed state of the investigate graph and its injected runtime context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agents.planners.base import Emit
from tools.envelope import ToolContext
from tools.registry import Registry


class InvestigateState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    engagement: str
    remaining_steps: int  # tool rounds left in this turn; reset by every user message
    pending_tier: str | None  # highest tier among the last plan's tool calls
    hypotheses: list[dict[str, Any]]  # agents.models.Hypothesis, updated from tool outputs
    evidence_ids: list[str]  # every id a tool returned in this conversation
    summary: str  # compacted older turns (ids kept)
    decision: dict[str, Any] | None
    executed: list[dict[str, Any]]


def _quiet(kind: str, payload: dict[str, Any]) -> None:
    return None


@dataclass
class InvestigateDeps:
    """Runtime context (never checkpointed): planner, tools, budgets, progress callback."""

    planner: Any  # agents.planners.chat.ChatPlanner
    registry: Registry
    tools: ToolContext
    emit: Emit = field(default=_quiet)
    max_steps: int = 6
    history_budget: int = 12_000  # characters of message history before compaction
    keep_turns: int = 2  # most recent user turns kept verbatim when compacting
