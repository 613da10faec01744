"""A small real LangGraph graph registered through FDE_API_GRAPHS for queue and stream
tests: `start` → `slow` (ticks, each a custom event) → `effect` (appends the thread id to
a file: the side effect the exactly-once tests count)."""

from __future__ import annotations

import time
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

SPEC = "probe=tests.api.probe_graph:build"


class ProbeState(TypedDict, total=False):
    ticks: int
    delay: float
    out: str
    seen: list[str]


def start(state: ProbeState) -> dict[str, Any]:
    return {"seen": ["start"]}


def slow(state: ProbeState) -> dict[str, Any]:
    write = get_stream_writer()
    for i in range(state.get("ticks", 3)):
        time.sleep(state.get("delay", 0.05))
        write({"tick": i})
    return {"seen": [*state["seen"], "slow"]}


def effect(state: ProbeState, config: RunnableConfig) -> dict[str, Any]:
    if state.get("out"):
        with open(state["out"], "a") as f:
            f.write(config["configurable"]["thread_id"] + "\n")
    return {"seen": [*state["seen"], "effect"]}


def build(checkpointer: Any) -> Any:
    g = StateGraph(ProbeState)
    g.add_node("start", start)
    g.add_node("slow", slow)
    g.add_node("effect", effect)
    g.add_edge(START, "start")
    g.add_edge("start", "slow")
    g.add_edge("slow", "effect")
    g.add_edge("effect", END)
    return g.compile(checkpointer=checkpointer)


HITL_SPEC = "probe_hitl=tests.api.probe_graph:build_hitl"


class HitlState(TypedDict, total=False):
    engagement: str
    amount: int
    out: str
    decision: dict[str, Any]
    status: str


def propose(state: HitlState) -> dict[str, Any]:
    """Pauses on the HITL payload of DESIGN §8 with one money action of `amount`."""
    from langgraph.types import interrupt

    action = {"name": "credit_customer_balance", "tier": "money",
              "args": {"customer": "cus_PROBE1234", "amount": state["amount"],
                       "currency": "eur"},
              "description": "credit the customer"}
    answer = interrupt({
        "action_requests": [{k: action[k] for k in ("name", "args", "description")}],
        "review_configs": [{"action_name": action["name"],
                            "allowed_decisions": ["approve", "edit", "reject"]},
                           {"action_name": "confirm_diagnosis",
                            "allowed_decisions": ["approve", "reject", "respond"]}],
        "reason": "money moves",
        "diagnosis": {"failure_mode": "FM-07", "title": "double charge",
                      "actions": [action]}})
    return {"decision": answer}


def apply(state: HitlState) -> dict[str, Any]:
    with open(state["out"], "a") as f:
        f.write(f"{state['decision']['type']}:{state['decision'].get('action')}\n")
    return {"status": "applied"}


def build_hitl(checkpointer: Any) -> Any:
    g = StateGraph(HitlState)
    g.add_node("propose", propose)
    g.add_node("apply", apply)
    g.add_edge(START, "propose")
    g.add_edge("propose", "apply")
    g.add_edge("apply", END)
    return g.compile(checkpointer=checkpointer)
