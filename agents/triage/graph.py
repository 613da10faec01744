"""Triage wiring only."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.triage import nodes, routing
from agents.triage.state import TriageDeps, TriageState


def build_triage_graph(checkpointer: Any = None) -> Any:
    g = StateGraph(TriageState, context_schema=TriageDeps)
    g.add_node("intake", nodes.intake)
    g.add_node("redact", nodes.redact_ticket)
    g.add_node("classify", nodes.classify)
    g.add_node("gather", nodes.gather)
    g.add_node("diagnose", nodes.diagnose)
    g.add_node("verify", nodes.verify)
    g.add_node("auto_resolve", nodes.auto_resolve)
    g.add_node("escalate", nodes.escalate)
    g.add_node("execute", nodes.execute)
    g.add_node("finish", nodes.finish)
    g.add_edge(START, "intake")
    g.add_edge("intake", "redact")
    g.add_edge("redact", "classify")
    g.add_edge("classify", "gather")
    g.add_conditional_edges("gather", routing.after_gather,
                            {"gather": "gather", "diagnose": "diagnose"})
    g.add_edge("diagnose", "verify")
    g.add_conditional_edges("verify", routing.after_verify,
                            {"auto_resolve": "auto_resolve", "escalate": "escalate"})
    g.add_edge("auto_resolve", END)
    g.add_conditional_edges("escalate", routing.after_escalate,
                            {"execute": "execute", "finish": "finish"})
    g.add_edge("execute", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer)
