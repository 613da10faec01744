"""Investigate wiring only."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.investigate import nodes, routing
from agents.investigate.state import InvestigateDeps, InvestigateState


def build_investigate_graph(checkpointer: Any = None) -> Any:
    g = StateGraph(InvestigateState, context_schema=InvestigateDeps)
    g.add_node("compact", nodes.compact)
    g.add_node("plan", nodes.plan)
    g.add_node("tools", nodes.tools)
    g.add_node("approve", nodes.approve)
    g.add_node("execute", nodes.execute)
    g.add_node("budget", nodes.budget)
    g.add_edge(START, "compact")
    g.add_edge("compact", "plan")
    g.add_conditional_edges("plan", routing.after_plan, {
        "tools": "tools", "approve": "approve", "budget": "budget", "end": END})
    g.add_edge("tools", "plan")
    g.add_edge("approve", "execute")
    g.add_edge("execute", "plan")
    g.add_edge("budget", END)
    return g.compile(checkpointer=checkpointer)
