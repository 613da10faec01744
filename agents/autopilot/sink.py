"""Where escalations go: a small seam. The default records them on the case itself (status
'escalated' + the HITL payload); the API's escalation queue can implement the same protocol
and be passed in instead, without the autopilot changing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agents.autopilot.cases import Case, set_status
from agents.escalation import ActionRequest, ReviewConfig

__all__ = ["CaseTableSink", "EscalationPayload", "EscalationSink"]


class EscalationPayload(BaseModel):
    """DESIGN §8's HITL payload, plus what an engineer needs to decide without digging."""

    action_requests: list[ActionRequest]
    review_configs: list[ReviewConfig]
    reason: str
    case_id: str
    engagement: str
    evidence: list[str] = Field(default_factory=list)
    money_minor: int | None = None
    currency: str | None = None
    triage_thread: str | None = None
    diagnosis: dict[str, Any] | None = None


class EscalationSink(Protocol):
    def escalate(self, session: Session, case: Case, payload: EscalationPayload, *,
                 now: datetime) -> Case: ...


class CaseTableSink:
    """Escalations live on the case row (the console and `fde autopilot status` read it)."""

    def escalate(self, session: Session, case: Case, payload: EscalationPayload, *,
                 now: datetime) -> Case:
        return set_status(session, case.id, "escalated", escalated_at=now,
                          escalation=payload.model_dump(mode="json"))
