"""Typed state of the review graph and its injected context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from agents.planners.base import Emit
from tools.envelope import ToolContext
from tools.registry import Registry


class ReviewState(TypedDict, total=False):
    path: str  # the architecture YAML
    architecture: dict[str, Any]
    report: dict[str, Any]  # knowledge.review.ReviewReport
    related: dict[str, list[dict[str, Any]]]  # check → patterns retrieved for it
    calls: list[dict[str, Any]]
    tool_errors: list[str]  # one line per failed tool call, shown in the report
    markdown: str


def _quiet(kind: str, payload: dict[str, Any]) -> None:
    return None


@dataclass
class ReviewDeps:
    registry: Registry
    tools: ToolContext  # its `knowledge` opens the pattern index used for retrieval
    patterns: list[Any]  # knowledge.patterns.Pattern: the checklists the rules join with
    emit: Emit = field(default=_quiet)
    k: int = 3
