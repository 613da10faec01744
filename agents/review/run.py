"""Running a review: one pass, no interrupts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.review.state import ReviewDeps
from agents.review.store import LexicalPatternIndex
from knowledge.review import ReviewReport
from tools.envelope import ToolContext

__all__ = ["ReviewResult", "review_tools", "run_review"]


class ReviewResult(BaseModel):
    report: ReviewReport
    related: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    markdown: str
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)


def run_review(graph: Any, deps: ReviewDeps, *, path: Path) -> ReviewResult:
    out = graph.invoke({"path": str(path)}, context=deps)
    return ReviewResult(report=ReviewReport.model_validate(out["report"]),
                        related=out.get("related", {}), markdown=out["markdown"],
                        tool_calls=out.get("calls", []))


def review_tools(patterns: list[Any], knowledge: Any = None, *,
                 engagement: str = "review") -> ToolContext:
    """Tools for a review: the built pattern index when given (an opener), else a keyword
    index over the same library (so retrieval works before `fde knowledge index`)."""
    if knowledge is None:
        index = LexicalPatternIndex(patterns)
        knowledge = lambda: index  # noqa: E731
    return ToolContext(engagement=engagement, knowledge=knowledge)
