"""Triage nodes: each returns a partial state update. Side effects (the approved write or
money action) live only in `execute`, which runs once per approved decision."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import RemoveMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.escalation import CONFIRM, Decision, build_escalation
from agents.models import Diagnosis, TicketFacts
from agents.offline.facts import extract_facts
from agents.triage.state import TriageDeps, TriageState
from core.ids import OBJECT_ID
from core.redact import redact
from tools.registry import ToolCall


def _runner(deps: TriageDeps, calls: list[ToolCall]):  # noqa: ANN202 - a ToolRunner
    def run(name: str, args: Any) -> ToolCall:
        spec = deps.registry.get(name)
        if spec is not None and spec.tier != "read":
            from tools.envelope import error

            call = ToolCall(id=f"call_{len(calls)}", name=name, tier=spec.tier, result=error(
                f"{name} is a {spec.tier}-tier tool and cannot run while gathering evidence",
                hint="propose it as a fix; an engineer approves it"))
        else:
            deps.emit("tool_call", {"name": name, "args": args})
            call = deps.registry.call(name, args, deps.tools)
        deps.emit("tool_result", {"name": name, "status": call.result.status,
                                  "message": call.result.message})
        calls.append(call)
        return call
    return run


def intake(state: TriageState, runtime: Runtime[TriageDeps]) -> dict[str, Any]:
    facts = extract_facts(state["ticket"])
    # a new ticket on a thread starts a new conversation
    return {"facts": facts.model_dump(), "notes": [runtime.context.planner_note],
            "calls": [], "executed": [], "messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES)]}


def redact_ticket(state: TriageState) -> dict[str, Any]:
    return {"ticket": redact(state["ticket"])}


def classify(state: TriageState, runtime: Runtime[TriageDeps]) -> dict[str, Any]:
    planner = runtime.context.planner
    category = planner.classify(state["ticket"]) if hasattr(planner, "classify") else "unknown"
    return {"category": category}


def gather(state: TriageState, runtime: Runtime[TriageDeps]) -> dict[str, Any]:
    """One gathering step (routing loops back while the planner asks for more); each step
    is checkpointed with the conversation it added."""
    deps = runtime.context
    calls: list[ToolCall] = []
    step = deps.planner.gather(ticket=state["ticket"], facts=TicketFacts(**state["facts"]),
                               category=state["category"], messages=state.get("messages", []),
                               run=_runner(deps, calls), emit=deps.emit)
    return {"calls": state.get("calls", []) + [c.model_dump(mode="json") for c in calls],
            "messages": step.messages, "gathering": not step.done}


def diagnose(state: TriageState, runtime: Runtime[TriageDeps]) -> dict[str, Any]:
    deps = runtime.context
    calls = [ToolCall.model_validate(c) for c in state["calls"]]
    extra: list[ToolCall] = []
    diagnosis = deps.planner.diagnose(
        ticket=state["ticket"], facts=TicketFacts(**state["facts"]),
        category=state["category"], calls=calls, messages=state.get("messages", []),
        run=_runner(deps, extra), emit=deps.emit)
    return {"diagnosis": diagnosis.model_dump(mode="json"),
            "calls": state["calls"] + [c.model_dump(mode="json") for c in extra]}


def verify(state: TriageState) -> dict[str, Any]:
    """Every id the answer cites must have come out of a tool call; others are struck, and
    an action naming one is dropped. What was struck stays in `struck` (the ids, and the
    arguments of each dropped action) so that whoever scores the run sees what the agent
    tried to invent, not only the cleaned answer."""
    seen: set[str] = set()
    for call in state["calls"]:
        seen |= set(OBJECT_ID.findall(str(call["result"])))
    d = Diagnosis.model_validate(state["diagnosis"])
    notes = list(state.get("notes", []))
    bad = sorted({i for i in OBJECT_ID.findall(d.explanation) if i not in seen}
                 | {i for i in d.evidence_ids if i not in seen and OBJECT_ID.fullmatch(i)}
                 | {i for h in d.hypotheses for i in h.evidence_ids
                    if i not in seen and OBJECT_ID.fullmatch(i)})
    struck: list[dict[str, Any]] = []
    if bad:
        for i in bad:
            d.explanation = d.explanation.replace(i, "[unverified id]")
        d.evidence_ids = [i for i in d.evidence_ids if i not in bad]
        for h in d.hypotheses:
            h.evidence_ids = [i for i in h.evidence_ids if i not in bad]
        notes.append(f"struck ids no tool returned: {', '.join(bad)}")
        struck.append({"kind": "ids", "ids": bad})
    actions = []
    for a in d.actions:
        if all(v in seen for v in a.args.values()
               if isinstance(v, str) and OBJECT_ID.fullmatch(v)):
            actions.append(a)
        else:
            notes.append(f"dropped action {a.name}: it names ids no tool returned")
            struck.append({"kind": "action", "name": a.name, "args": a.args})
    d.actions = actions
    return {"diagnosis": d.model_dump(mode="json"), "notes": notes, "struck": struck}


def auto_resolve(state: TriageState) -> dict[str, Any]:
    outcome = state["diagnosis"]["outcome"]
    return {"status": "resolved" if outcome == "diagnosed" else outcome}


def escalate(state: TriageState) -> dict[str, Any]:
    payload = build_escalation(Diagnosis.model_validate(state["diagnosis"]))
    answer = interrupt(payload.model_dump(mode="json"))
    decision = Decision.model_validate(answer)
    return {"decision": decision.model_dump(mode="json")}


def execute(state: TriageState, runtime: Runtime[TriageDeps]) -> dict[str, Any]:
    """The only node with side effects: runs the approved action once."""
    deps = runtime.context
    decision = Decision.model_validate(state["decision"])
    d = Diagnosis.model_validate(state["diagnosis"])
    action = next((a for a in d.actions if a.name == decision.action), None)
    if action is None:
        return {"status": "rejected", "notes": state.get("notes", []) + [
            f"decision names no proposed action: {decision.action!r}"]}
    args = decision.args if decision.type == "edit" and decision.args else action.args
    call = deps.registry.call(action.name, args, deps.tools, approved=True)
    _audit(deps, decision, call)
    return {"executed": [call.model_dump(mode="json")],
            "status": "resolved" if call.result.status == "success" else "action_failed"}


def _audit(deps: TriageDeps, decision: Decision, call: ToolCall) -> None:
    if deps.tools.cache.get("audit") is not None:
        deps.tools.cache["audit"](decision, call)


def finish(state: TriageState) -> dict[str, Any]:
    decision = state.get("decision") or {}
    if state.get("status"):
        return {}
    kind = decision.get("type")
    if kind == "reject":
        return {"status": "rejected"}
    if kind == "respond" or (kind == "approve" and decision.get("action") in (None, CONFIRM)):
        return {"status": "resolved_by_engineer"}
    return {"status": "closed"}
