"""Typed state of the design graph and its injected context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from agents.planners.base import Emit
from core.storage import Database
from tools.envelope import ToolContext
from tools.registry import Registry


class DesignState(TypedDict, total=False):
    requirements: dict[str, Any]  # tools.design.requirements.Requirements
    draft: dict[str, Any]  # tools.design.draft.DesignDraft
    calls: list[dict[str, Any]]
    design_id: str


def _quiet(kind: str, payload: dict[str, Any]) -> None:
    return None


@dataclass
class DesignDeps:
    registry: Registry
    tools: ToolContext  # its `knowledge` opens the pattern index used for retrieval
    pattern_ids: frozenset[str]  # the library: every recommended pattern must exist in it
    db: Database | None = None  # None: draft only, nothing stored
    engagement: str = ""
    actor: str = "system"
    emit: Emit = field(default=_quiet)
    k: int = 3
