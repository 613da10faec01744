"""Running the design graph once: no interrupts — the engineer's review happens on the
stored draft (`fde design show/edit/approve`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.design.state import DesignDeps
from agents.review.store import LexicalPatternIndex
from core.storage import Database
from tools.design.draft import DesignDraft
from tools.design.requirements import Requirements
from tools.envelope import ToolContext
from tools.registry import default_registry

__all__ = ["DesignResult", "design_deps", "run_design"]


class DesignResult(BaseModel):
    draft: DesignDraft
    design_id: str | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)


def run_design(graph: Any, deps: DesignDeps, requirements: Requirements) -> DesignResult:
    out = graph.invoke({"requirements": requirements.model_dump(mode="json")}, context=deps)
    return DesignResult(draft=DesignDraft.model_validate(out["draft"]),
                        design_id=out.get("design_id"), tool_calls=out.get("calls", []))


def design_deps(patterns: list[Any], *, knowledge: Any = None, db: Database | None = None,
                engagement: str = "", actor: str = "system") -> DesignDeps:
    """Deps over the pattern library: the built index when given (an opener), else a
    keyword index over the same patterns (retrieval works before `fde knowledge index`)."""
    if knowledge is None:
        index = LexicalPatternIndex(patterns)
        knowledge = lambda: index  # noqa: E731
    return DesignDeps(registry=default_registry(),
                      tools=ToolContext(engagement=engagement or "design", knowledge=knowledge),
                      pattern_ids=frozenset(p.id for p in patterns), db=db,
                      engagement=engagement, actor=actor)
