"""Design wiring only."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.design import nodes, routing
from agents.design.state import DesignDeps, DesignState


def build_design_graph(checkpointer: Any = None) -> Any:
    g = StateGraph(DesignState, context_schema=DesignDeps)
    g.add_node("intake", nodes.intake)
    g.add_node("rules", nodes.rules)
    g.add_node("retrieve", nodes.retrieve)
    g.add_node("save", nodes.save)
    g.add_edge(START, "intake")
    g.add_edge("intake", "rules")
    g.add_conditional_edges("rules", routing.after_rules, {"retrieve": "retrieve", "save": "save"})
    g.add_edge("retrieve", "save")
    g.add_edge("save", END)
    return g.compile(checkpointer=checkpointer)
