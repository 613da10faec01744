"""The assistants a run can name: `triage`, `investigate`, `review` (the agents' graphs),
plus extra graphs named in FDE_API_GRAPHS (`name=module:factory`, factory(checkpointer) →
a compiled graph run without context). Each assistant says how to build its graph and the
per-run context (its engagement's tools, its planner)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from agents.planners.base import Emit
from core.errors import ConfigError
from core.settings import Settings
from core.storage import Database

__all__ = ["AssistantSpec", "RunEnv", "load_assistants"]


@dataclass
class RunEnv:
    """What a run's context is built from."""

    settings: Settings
    db: Database
    engagement: str | None
    sync: bool
    emit: Emit
    planners: dict[str, Any] = field(default_factory=dict)  # one per kind per process
    on_execute: Callable[[Any, Any], None] | None = None  # (decision, tool call) → audit


@dataclass(frozen=True)
class AssistantSpec:
    assistant_id: str
    description: str
    build: Callable[[Any], Any]
    context: Callable[[RunEnv], AbstractContextManager[Any]]
    needs_engagement: bool = False
    prepare_input: Callable[[dict[str, Any]], dict[str, Any]] = dict


def _planner(env: RunEnv, kind: str) -> tuple[Any, str]:
    """Planners are built once per process (the offline one loads an embedder)."""
    if kind not in env.planners:
        if kind == "chat":
            from agents.planners.chat import select_chat_planner

            env.planners[kind] = select_chat_planner(dict(os.environ))
        else:
            from agents.planners import select_planner

            env.planners[kind] = select_planner(dict(os.environ))
    return env.planners[kind]


def _tools(env: RunEnv) -> AbstractContextManager[Any]:
    from agents.wiring import engagement_tools

    assert env.engagement is not None
    return engagement_tools(env.settings, env.db, env.engagement, sync=env.sync,
                            warn=lambda w: env.emit("note", {"text": w}))


@contextmanager
def _triage(env: RunEnv) -> Iterator[Any]:
    from agents.triage.state import TriageDeps
    from tools.registry import default_registry

    planner, note = _planner(env, "triage")
    with _tools(env) as tools:
        if env.on_execute is not None:
            tools.cache["audit"] = env.on_execute
        yield TriageDeps(planner=planner, registry=default_registry(), tools=tools,
                         emit=env.emit, planner_note=note)


@contextmanager
def _investigate(env: RunEnv) -> Iterator[Any]:
    from agents.investigate.state import InvestigateDeps
    from tools.registry import default_registry

    planner, _ = _planner(env, "chat")
    with _tools(env) as tools:
        yield InvestigateDeps(planner=planner, registry=default_registry(), tools=tools,
                              emit=env.emit)


@contextmanager
def _review(env: RunEnv) -> Iterator[Any]:
    from agents.review.run import review_tools
    from agents.review.state import ReviewDeps
    from agents.wiring import knowledge_opener
    from knowledge.config import load_knowledge_settings
    from knowledge.patterns import load_patterns
    from tools.registry import default_registry

    patterns = load_patterns(load_knowledge_settings().patterns_dir)
    yield ReviewDeps(registry=default_registry(), patterns=patterns, emit=env.emit,
                     tools=review_tools(patterns, knowledge_opener()))


def _chat_turn(given: dict[str, Any]) -> dict[str, Any]:
    """Each user message opens a turn with a fresh tool budget (as `investigate.ask`)."""
    from agents.investigate.state import InvestigateDeps

    budget = InvestigateDeps.__dataclass_fields__["max_steps"].default
    return {"remaining_steps": budget, **given}


def _graph(module: str, name: str) -> Callable[[Any], Any]:
    def build(checkpointer: Any) -> Any:
        return getattr(importlib.import_module(module), name)(checkpointer)
    return build


def _extra(spec: str) -> list[AssistantSpec]:
    out = []
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, target = item.partition("=")
        module, _, attr = target.partition(":")
        if not (name and module and attr):
            raise ConfigError(f"FDE_API_GRAPHS entry {item!r} is not name=module:factory",
                              hint="e.g. FDE_API_GRAPHS=mygraph=my.module:build_graph")
        out.append(AssistantSpec(name, f"{module}:{attr}", _graph(module, attr),
                                 lambda _env: nullcontext(None)))
    return out


def load_assistants(settings: Settings) -> dict[str, AssistantSpec]:
    specs = [
        AssistantSpec("triage", "diagnose a support ticket; escalates judgment calls",
                      _graph("agents.triage", "build_triage_graph"), _triage,
                      needs_engagement=True),
        AssistantSpec("investigate", "chat investigation over an engagement's tools",
                      _graph("agents.investigate", "build_investigate_graph"), _investigate,
                      needs_engagement=True, prepare_input=_chat_turn),
        AssistantSpec("review", "architecture review against the pattern library",
                      _graph("agents.review.graph", "build_review_graph"), _review),
        *_extra(settings.api_graphs),
    ]
    return {s.assistant_id: s for s in specs}
