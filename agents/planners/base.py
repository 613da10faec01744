"""The planner interface the graphs call, and the choice between the two planners.

A planner gathers evidence through a `ToolRunner` (which records every call, so the graph
knows exactly what the tools said) and writes a `Diagnosis` from those calls only.

Planners are stateless: one instance serves every run of a process (API workers, autopilot
engagements, eval cases) at once. Whatever a run accumulates — the model conversation — is
handed in from the graph's state (`messages`) and handed back as new turns for the graph to
add (`Gathered`), so it is checkpointed with the run and a resumed run continues it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.messages import AnyMessage
from pydantic import BaseModel

from agents.models import Diagnosis, TicketFacts
from core.errors import ConfigError
from tools.registry import ToolCall

__all__ = ["Emit", "Gathered", "LLMConfig", "Planner", "ToolRunner", "select_planner"]

Emit = Callable[[str, dict[str, Any]], None]
"""Progress callback: ("token" | "tool_call" | "tool_result" | "note", payload)."""


class ToolRunner(Protocol):
    def __call__(self, name: str, args: dict[str, Any] | str | None) -> ToolCall: ...


@dataclass(frozen=True)
class Gathered:
    """One gathering step: the conversation turns to add to the run's state, and whether
    gathering is over (a model that called tools gets another step)."""

    messages: list[AnyMessage] = field(default_factory=list)
    done: bool = True


class Planner(Protocol):
    name: str

    def gather(self, *, ticket: str, facts: TicketFacts, category: str,
               messages: Sequence[AnyMessage], run: ToolRunner, emit: Emit) -> Gathered: ...

    def diagnose(self, *, ticket: str, facts: TicketFacts, category: str,
                 calls: list[ToolCall], messages: Sequence[AnyMessage], run: ToolRunner,
                 emit: Emit) -> Diagnosis: ...


class LLMConfig(BaseModel):
    api_key: str
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    max_steps: int = 8
    timeout: float = 60.0


def llm_config_from_env(env: dict[str, str]) -> LLMConfig | None:
    key = env.get("OPENAI_API_KEY", "").strip()
    if not key:
        return None
    return LLMConfig(api_key=key, base_url=env.get("OPENAI_BASE_URL") or None,
                     model=env.get("FDE_MODEL") or "gpt-4o-mini")


def select_planner(env: dict[str, str], *, embedder: Any = None, http_client: Any = None,
                   prefer: str | None = None) -> tuple[Planner, str]:
    """(planner, a note saying which one and why)."""
    from agents.planners.offline import OfflinePlanner

    config = llm_config_from_env(env)
    if prefer == "llm" and config is None:
        raise ConfigError("the LLM planner needs OPENAI_API_KEY",
                          hint="set OPENAI_API_KEY (and OPENAI_BASE_URL, FDE_MODEL), or drop "
                               "--planner llm to use the offline planner")
    if config is None or prefer == "offline":
        why = "no OPENAI_API_KEY set" if config is None else "asked for"
        return OfflinePlanner(embedder=embedder), f"offline playbook planner ({why})"
    from agents.planners.llm import LLMPlanner

    return LLMPlanner(config, http_client=http_client), f"LLM planner ({config.model})"
