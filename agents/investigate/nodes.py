"""Investigate nodes: each returns a partial state update. The only side effects (approved
write/money tools) live in `execute`, after the `approve` interrupt."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.escalation import ActionRequest, Decision, ReviewConfig
from agents.investigate.state import InvestigateDeps, InvestigateState
from tools.registry import ToolCall, render_for_model

_ID = re.compile(r"\b[a-z]{2,8}_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{6,}(?::\d+)?\b")
_TIER_RANK = {"read": 0, "write": 1, "money": 2}
SUMMARY_PREFIX = "Summary of the earlier conversation"


def _size(messages: list[AnyMessage]) -> int:
    return sum(len(str(m.content)) + len(str(getattr(m, "tool_calls", "") or ""))
               for m in messages)


def compact(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    """Over the history budget: older turns become one summary message that keeps every
    evidence id they mentioned; the last `keep_turns` user turns stay verbatim (a tool call
    and its result are never split: cuts fall on user messages)."""
    deps = runtime.context
    messages = state["messages"]
    if _size(messages) <= deps.history_budget:
        return {}
    starts = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if len(starts) <= deps.keep_turns:
        return {}
    cut = starts[-deps.keep_turns]
    old = messages[:cut]
    asked = [str(m.content)[:160] for m in old if isinstance(m, HumanMessage)]
    answered = [str(m.content).split("\n")[0][:160] for m in old
                if isinstance(m, AIMessage) and m.content and not m.tool_calls]
    ids = list(dict.fromkeys(i for m in old for i in _ID.findall(
        str(m.content) + str(getattr(m, "tool_calls", "") or ""))))
    previous = state.get("summary", "")
    text = "\n".join(filter(None, [
        f"{SUMMARY_PREFIX} ({len(old)} messages compacted; tool outputs dropped).",
        previous and f"Before that: {previous}",
        "Asked: " + " | ".join(asked) if asked else "",
        "Answered: " + " | ".join(answered) if answered else "",
        "Evidence ids seen: " + ", ".join(ids) if ids else ""]))
    deps.emit("note", {"text": f"compacted {len(old)} messages"})
    return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), SystemMessage(content=text),
                         *messages[cut:]], "summary": text}


def plan(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    deps = runtime.context
    message = deps.planner.respond(state["messages"],
                                   tools=deps.registry.openai_tools(
                                       tiers=("read", "write", "money")), emit=deps.emit)
    tiers = [deps.registry.get(c["name"]).tier if deps.registry.get(c["name"]) else "read"
             for c in message.tool_calls]
    top = max(tiers, key=_TIER_RANK.__getitem__) if tiers else None
    return {"messages": [message], "pending_tier": top,
            "remaining_steps": state.get("remaining_steps", deps.max_steps)
            - (1 if message.tool_calls else 0)}


def _hypotheses(state: InvestigateState, calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Leads from tool outputs: one per failure mode / discrepancy class, with its ids."""
    by_key = {h["failure_mode"] or h["title"]: dict(h) for h in state.get("hypotheses", [])}
    for call in calls:
        data = call.result.data
        if call.result.status != "success" or not isinstance(data, dict):
            continue
        items = [(f.get("failure_mode"), f["check"], [f["id"], *f["evidence"]])
                 for f in data.get("findings", [])]
        items += [(None, f"discrepancy: {d['class']}", [d["id"], *d["evidence"]])
                  for d in data.get("discrepancies", [])]
        for mode, title, ids in items:
            h = by_key.setdefault(mode or title, {"failure_mode": mode, "title": title,
                                                  "confidence": 0.0, "evidence_ids": [],
                                                  "why": "from " + call.name})
            h["evidence_ids"] = list(dict.fromkeys(h["evidence_ids"] + ids))[:20]
            h["confidence"] = round(min(1.0, h["confidence"] + 0.2), 2)
    return sorted(by_key.values(), key=lambda h: -h["confidence"])[:5]


def _run(deps: InvestigateDeps, calls: list[dict[str, Any]], *, approved: bool = False
         ) -> list[ToolCall]:
    out = []
    for c in calls:
        deps.emit("tool_call", {"name": c["name"], "args": c["args"]})
        call = deps.registry.call(c["name"], c["args"], deps.tools, approved=approved,
                                  call_id=c["id"])
        deps.emit("tool_result", {"name": c["name"], "status": call.result.status,
                                  "message": call.result.message})
        out.append(call)
    return out


def _results(state: InvestigateState, calls: list[ToolCall], deps: InvestigateDeps
             ) -> dict[str, Any]:
    messages = []
    for call in calls:
        spec = deps.registry.get(call.name)
        budget = spec.budget if spec else 6_000
        messages.append(ToolMessage(content=render_for_model(call, budget), name=call.name,
                                    tool_call_id=call.id, status="success"
                                    if call.result.status != "error" else "error"))
    ids = [i for call in calls for i in call.result.evidence_ids]
    return {"messages": messages, "hypotheses": _hypotheses(state, calls),
            "evidence_ids": list(dict.fromkeys(state.get("evidence_ids", []) + ids))}


def tools(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    deps = runtime.context
    last = state["messages"][-1]
    return _results(state, _run(deps, last.tool_calls), deps)


def budget(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    """Step budget spent: the pending calls are answered "not run" and the planner must
    answer from what it has, without tools."""
    deps = runtime.context
    last = state["messages"][-1]
    note = (f"not run: the step budget of {deps.max_steps} tool rounds for this question "
            "is spent; answer from the evidence gathered so far")
    skipped = [ToolMessage(content=note, name=c["name"], tool_call_id=c["id"], status="error")
               for c in last.tool_calls]
    deps.emit("note", {"text": f"step budget of {deps.max_steps} reached"})
    answer = deps.planner.respond([*state["messages"], *skipped,
                                   SystemMessage(content=note)], tools=None, emit=deps.emit)
    return {"messages": [*skipped, AIMessage(content=answer.content or note)]}


def _risky(deps: InvestigateDeps, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if (s := deps.registry.get(c["name"])) is not None
            and s.tier != "read"]


def approve(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    """A write/money call waits for an engineer (HITL payload, DESIGN §8)."""
    risky = _risky(runtime.context, state["messages"][-1].tool_calls)
    payload = {
        "action_requests": [ActionRequest(name=c["name"], args=c["args"],
                                          description=f"the assistant asks to run {c['name']}")
                            .model_dump() for c in risky],
        "review_configs": [ReviewConfig(action_name=c["name"],
                                        allowed_decisions=["approve", "edit", "reject",
                                                           "respond"]).model_dump()
                           for c in risky],
        "reason": f"{state.get('pending_tier')}-tier tool call needs approval"}
    answer = interrupt(payload)
    return {"decision": Decision.model_validate(answer).model_dump(mode="json")}


def execute(state: InvestigateState, runtime: Runtime[InvestigateDeps]) -> dict[str, Any]:
    """Runs the read calls, and the write/money calls only if approved (once)."""
    deps = runtime.context
    decision = Decision.model_validate(state["decision"])
    last = state["messages"][-1]
    risky = _risky(deps, last.tool_calls)
    reads = [c for c in last.tool_calls if c not in risky]
    done = _run(deps, reads)
    executed: list[dict[str, Any]] = []
    update = _results(state, done, deps)
    for c in risky:
        if decision.type in ("approve", "edit") and decision.action in (None, c["name"]):
            args = decision.args if decision.type == "edit" and decision.args else c["args"]
            call = _run(deps, [{**c, "args": args}], approved=True)[0]
            executed.append(call.model_dump(mode="json"))
            update["messages"] += _results(state, [call], deps)["messages"]
        else:
            why = decision.message or "no reason given"
            update["messages"].append(ToolMessage(
                content=f"the engineer answered {decision.type}: {why}", name=c["name"],
                tool_call_id=c["id"], status="error"))
    update["executed"] = state.get("executed", []) + executed
    update["decision"] = None
    update["pending_tier"] = None
    return update
