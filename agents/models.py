"""Boundary models of the agents: what a ticket says, a diagnosis, a proposed action."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Diagnosis", "Hypothesis", "Outcome", "ProposedAction", "TicketFacts"]

Outcome = Literal["diagnosed", "no_defect_found", "cannot_prove"]


class TicketFacts(BaseModel):
    """What the ticket names, pulled out by rules (never by a model)."""

    ids: list[str] = Field(default_factory=list)
    amounts: list[int] = Field(default_factory=list, description="as written, in minor-ish units")
    currencies: list[str] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)


class Hypothesis(BaseModel):
    failure_mode: str | None
    title: str
    confidence: float = Field(ge=0, le=1)
    evidence_ids: list[str] = Field(default_factory=list)
    why: str = ""


class ProposedAction(BaseModel):
    name: str
    args: dict[str, Any]
    description: str
    tier: Literal["read", "write", "money"] = "write"


class Diagnosis(BaseModel):
    outcome: Outcome
    category: str
    failure_mode: str | None = None
    title: str = ""
    explanation: str = ""
    cause: str = Field(default="", description="the failure mode's usual cause (catalogue)")
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list)
    fix: str = ""
    systemic_fix: str = ""
    pattern_refs: list[str] = Field(default_factory=list)
    needs_judgment: bool = False
    judgment_why: str = ""
    actions: list[ProposedAction] = Field(default_factory=list)
    planner: str = "offline"
    notes: list[str] = Field(default_factory=list)
