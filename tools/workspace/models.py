"""What the workspace speaks at its boundaries: create requests and stored records for
contacts, meeting notes, decisions and review items, and the merged timeline's entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

__all__ = ["Contact", "ContactCreate", "Decision", "DecisionCreate", "DecisionOption",
           "DecisionStatus",
           "EntryKind", "Note", "NoteCreate", "ReviewItem", "ReviewItemStatus", "ReviewRun",
           "ReviewViolation",            "SearchHit", "TimelineEntry"]

# proposed → accepted → superseded (when a later decision that replaces it is accepted);
# proposed → rejected (by reviewers) or withdrawn (by its author's side); nothing else.
DecisionStatus = Literal["proposed", "accepted", "superseded", "rejected", "withdrawn"]
ReviewItemStatus = Literal["open", "accepted", "resolved", "wont_fix"]
EntryKind = Literal["finding", "recon", "design", "case", "escalation", "escalation_decision",
                    "blueprint_apply", "shadow_run", "review", "note", "decision",
                    "decision_accepted"]


class ContactCreate(BaseModel):
    name: str
    role: str = ""
    email: str | None = None


class Contact(ContactCreate):
    id: str
    engagement: str
    created_at: datetime
    created_by: str


class NoteCreate(BaseModel):
    title: str
    body: str
    attendees: list[str] = Field(default_factory=list)
    met_at: datetime | None = Field(default=None, description="when the meeting was; now if unset")


class Note(BaseModel):
    id: str
    engagement: str
    title: str
    body: str
    attendees: list[str]
    met_at: datetime
    created_at: datetime
    created_by: str


class DecisionOption(BaseModel):
    """One considered option, MADR-style: its name and the arguments for and against."""

    name: str = Field(min_length=1, max_length=300)
    pros: list[str] = Field(default_factory=list, description="Good, because …")
    cons: list[str] = Field(default_factory=list, description="Bad, because …")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class DecisionCreate(BaseModel):
    title: str
    context: str = Field(description="the problem and forces that made a decision necessary")
    drivers: list[str] = Field(default_factory=list, description="forces that decide it")
    decision: str = Field(description="what was decided")
    alternatives: list[DecisionOption] = Field(
        default_factory=list, description="options considered (a name, or name/pros/cons)")
    chosen: str | None = Field(default=None, description="the alternative chosen, by name")
    because: str = Field(default="", description="why the chosen option won")
    consequences: str = ""
    evidence: list[str] = Field(default_factory=list,
                                description="links or ids (findings, runs, escalations)")
    decided_by: list[str] = Field(default_factory=list,
                                  description="who decided; the recording actor if empty")
    supersedes: int | None = Field(default=None, description="number of the decision replaced")

    @model_validator(mode="after")
    def _chosen_is_an_option(self) -> DecisionCreate:
        """MADR lists the chosen option among the considered ones: add it when it is not."""
        if self.chosen is not None and self.chosen not in [o.name for o in self.alternatives]:
            self.alternatives.insert(0, DecisionOption(name=self.chosen))
        return self


class Decision(BaseModel):
    id: str
    engagement: str
    number: int
    title: str
    context: str
    drivers: list[str] = Field(default_factory=list)
    decision: str
    alternatives: list[DecisionOption]
    chosen: str | None = None
    because: str = ""
    consequences: str
    evidence: list[str]
    decided_by: list[str]
    status: DecisionStatus
    supersedes: int | None
    superseded_by: int | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    closed_at: datetime | None = None
    closed_by: str | None = None
    closed_reason: str | None = Field(default=None, description="why rejected or withdrawn")

    @model_validator(mode="before")
    @classmethod
    def _recorded_before_madr(cls, value: Any) -> Any:
        """Rows from before the MADR fields have them NULL."""
        if isinstance(value, dict):
            value = {**value, "drivers": value.get("drivers") or [],
                     "because": value.get("because") or ""}
        return value


class ReviewRun(BaseModel):
    id: str
    engagement: str
    map_version: int | None
    violations: int
    markdown: str
    created_at: datetime
    created_by: str


class ReviewViolation(BaseModel):
    """One violated checklist item of an architecture review, as the workspace keeps it."""

    check: str
    severity: str
    item: str
    evidence: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    recommendation: str = ""


class ReviewItem(BaseModel):
    id: str
    engagement: str
    check: str
    severity: str
    item: str
    evidence: list[str]
    patterns: list[str]
    recommendation: str
    status: ReviewItemStatus
    first_review: str
    last_review: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    why: str | None


class TimelineEntry(BaseModel):
    at: datetime
    kind: EntryKind
    ref: str = Field(description="id of the record this entry comes from")
    title: str
    body: str = ""
    status: str | None = None
    actor: str | None = None


class SearchHit(BaseModel):
    kind: EntryKind | Literal["contact", "review_item"]
    ref: str
    title: str
    snippet: str
    at: datetime | None
    score: float
