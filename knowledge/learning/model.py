"""The learning loop's boundary: a `Lesson` (what an engineer confirmed) and a `Draft` (what
the library could gain from it, waiting for an engineer's approval)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from core.redact import redact

__all__ = ["Draft", "DraftKind", "DraftStatus", "Lesson"]

DraftKind = Literal["pattern", "check", "scenario"]
DraftStatus = Literal["draft", "approved", "rejected"]


class Lesson(BaseModel):
    """A resolved escalation or a confirmed diagnosis, reduced to what can be generalised.

    Built by the caller from an escalation row or a triage diagnosis; it carries the ids the
    engineer saw as evidence so the draft can cite them.
    """

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="escalation or diagnosis id the lesson came from")
    engagement: str | None = None
    failure_mode: str | None = None
    category: str = "other"
    title: str = Field(min_length=5)
    # `fde learn propose --ticket` passes the user's words as typed: redacted here, before a
    # draft (and the eval scenario it may become) stores them
    ticket: Annotated[str, AfterValidator(redact)] = Field(
        "", description="the user's words, secrets and PII redacted")
    explanation: str = ""
    cause: str = ""
    fix: str = ""
    systemic_fix: str = ""
    evidence_ids: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    decided_by: str = Field(description="the engineer who resolved or confirmed it")

    @field_validator("failure_mode")
    @classmethod
    def _fm(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"FM-\d\d", value):
            raise ValueError(f"failure_mode must look like FM-14, not {value!r}")
        return value


class Draft(BaseModel):
    id: str
    kind: DraftKind
    source: str
    engagement: str | None
    status: DraftStatus
    title: str
    file_name: str
    body: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    published_to: str | None = None
