"""Review wiring only."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.review import nodes, routing
from agents.review.state import ReviewDeps, ReviewState


def build_review_graph(checkpointer: Any = None) -> Any:
    g = StateGraph(ReviewState, context_schema=ReviewDeps)
    g.add_node("load", nodes.load)
    g.add_node("review", nodes.review)
    g.add_node("retrieve", nodes.retrieve)
    g.add_node("report", nodes.report)
    g.add_edge(START, "load")
    g.add_edge("load", "review")
    g.add_conditional_edges("review", routing.after_review,
                            {"retrieve": "retrieve", "report": "report"})
    g.add_edge("retrieve", "report")
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)
