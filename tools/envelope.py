"""The tool-result envelope and the context tools run in.

Every tool is a typed function ``fn(ctx: ToolContext, args: XArgs) -> ToolResult[XOut]``.
Expected failures (a Stripe 404, an empty list, a missing user database) come back as an
envelope with ``status`` error / no_data — data for the agent, not exceptions. A write or
money tool called without an engineer's approval answers ``approval_required`` and does
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

__all__ = ["ToolContext", "ToolResult", "ToolStatus", "error", "no_data", "success"]

ToolStatus = Literal["success", "error", "no_data", "approval_required"]
T = TypeVar("T")


class ToolResult(BaseModel, Generic[T]):
    status: ToolStatus
    data: T | None = None
    message: str = ""
    hint: str = ""
    evidence_ids: list[str] = Field(
        default_factory=list, description="ids this result proves something about (citable)")


def success(data: T, *, evidence_ids: list[str] | None = None, message: str = ""
            ) -> ToolResult[T]:
    return ToolResult[Any](status="success", data=data, message=message,
                           evidence_ids=list(dict.fromkeys(evidence_ids or [])))


def no_data(message: str, *, hint: str = "") -> ToolResult[Any]:
    return ToolResult[Any](status="no_data", message=message, hint=hint)


def error(message: str, *, hint: str = "") -> ToolResult[Any]:
    return ToolResult[Any](status="error", message=message, hint=hint)


@dataclass
class ToolContext:
    """What tools may touch for one engagement. Every field is a seam: the CLI fills them
    from the engagement, tests from a built sandbox world or fakes.

    ``gateway`` is a `tools.stripe.StripeGateway`; ``snapshot`` a recon `Snapshot`;
    ``user_system`` a recon `UserSystem` and ``mapping`` its `Mapping`; ``knowledge`` opens
    the pattern index lazily; ``findings`` runs the deterministic detectors.
    """

    engagement: str
    gateway: Any | None = None
    snapshot: Any | None = None
    user_system: Any | None = None
    mapping: Any | None = None
    expected_livemode: bool | None = None
    knowledge: Callable[[], Any] | None = None
    findings: Callable[[], list[Any]] | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """One expensive result (a recon run, the findings) per context."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]
