"""Investigate routing: pure functions returning the next node's label."""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import AIMessage

from agents.investigate.state import InvestigateState


def after_plan(state: InvestigateState) -> Literal["tools", "approve", "budget", "end"]:
    last = state["messages"][-1]
    if not (isinstance(last, AIMessage) and last.tool_calls):
        return "end"
    if state.get("pending_tier") in ("write", "money"):
        return "approve"
    if state.get("remaining_steps", 0) < 0:
        return "budget"
    return "tools"
