"""Running a chat turn: `ask` sends one user message on a thread; `resume_chat` answers a
pending approval (strictly: the interrupt id must be the pending one)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.escalation import Decision
from agents.investigate.state import InvestigateDeps
from core.errors import ConfigError
from core.redact import redact

__all__ = ["ChatTurn", "ask", "resume_chat"]


class ChatTurn(BaseModel):
    thread_id: str
    answer: str = ""
    interrupt: dict[str, Any] | None = Field(default=None, description="{id, value}")
    hypotheses: list[dict[str, Any]] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list)
    executed: list[dict[str, Any]] = Field(default_factory=list)
    messages: int = 0


def _turn(graph: Any, thread_id: str) -> ChatTurn:
    snap = graph.get_state({"configurable": {"thread_id": thread_id}})
    values = snap.values or {}
    messages = values.get("messages", [])
    last = messages[-1] if messages else None
    pending = [{"id": i.id, "value": i.value} for i in snap.interrupts]
    return ChatTurn(
        thread_id=thread_id, interrupt=pending[0] if pending else None,
        answer=str(last.content) if isinstance(last, AIMessage) and not pending else "",
        hypotheses=values.get("hypotheses", []), evidence_ids=values.get("evidence_ids", []),
        executed=values.get("executed", []), messages=len(messages))


def ask(graph: Any, deps: InvestigateDeps, *, thread_id: str, message: str,
        engagement: str) -> ChatTurn:
    if not message.strip():
        raise ConfigError("the message is empty")
    config = {"configurable": {"thread_id": thread_id}}
    if graph.get_state(config).interrupts:
        raise ConfigError(f"thread {thread_id} is waiting for an approval decision",
                          hint="answer it first (approve, edit, reject or respond)")
    # redacted at the door: the graph's first checkpoint stores its input as given
    graph.invoke({"messages": [HumanMessage(content=redact(message.strip()))],
                  "engagement": engagement, "remaining_steps": deps.max_steps},
                 config, context=deps)
    return _turn(graph, thread_id)


def resume_chat(graph: Any, deps: InvestigateDeps, *, thread_id: str, interrupt_id: str,
                decision: Decision | dict[str, Any]) -> ChatTurn:
    config = {"configurable": {"thread_id": thread_id}}
    pending = {i.id for i in graph.get_state(config).interrupts}
    if interrupt_id not in pending:
        raise ConfigError(f"interrupt {interrupt_id!r} is not pending on thread {thread_id}",
                          hint=f"pending: {', '.join(sorted(pending)) or 'none'}")
    value = Decision.model_validate(decision).model_dump(mode="json")
    graph.invoke(Command(resume={interrupt_id: value}), config, context=deps)
    return _turn(graph, thread_id)
