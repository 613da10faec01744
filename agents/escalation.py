"""Escalation: the human-in-the-loop payload (DESIGN §8) and the engineer's decision.

    {action_requests: [{name, args, description}],
     review_configs: [{action_name, allowed_decisions}]}

Decisions are approve | edit | reject | respond. A write or money action only ever runs
after approve/edit of that exact action.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.models import Diagnosis

__all__ = ["ActionRequest", "Decision", "Escalation", "ReviewConfig", "build_escalation"]

DecisionType = Literal["approve", "edit", "reject", "respond"]


class ActionRequest(BaseModel):
    name: str
    args: dict[str, Any]
    description: str


class ReviewConfig(BaseModel):
    action_name: str
    allowed_decisions: list[DecisionType]


class Escalation(BaseModel):
    action_requests: list[ActionRequest]
    review_configs: list[ReviewConfig]
    reason: str
    diagnosis: dict[str, Any]


class Decision(BaseModel):
    type: DecisionType
    action: str | None = Field(default=None, description="which action_request (by name)")
    args: dict[str, Any] | None = Field(default=None, description="edited args (edit only)")
    message: str = ""
    actor: str = "engineer"


CONFIRM = "confirm_diagnosis"


def build_escalation(diagnosis: Diagnosis) -> Escalation:
    requests = [ActionRequest(name=a.name, args=a.args, description=a.description)
                for a in diagnosis.actions]
    configs = [ReviewConfig(action_name=a.name, allowed_decisions=["approve", "edit", "reject"])
               for a in diagnosis.actions]
    requests.append(ActionRequest(
        name=CONFIRM, args={"failure_mode": diagnosis.failure_mode},
        description=f"confirm the diagnosis: {diagnosis.title or diagnosis.outcome}"))
    configs.append(ReviewConfig(action_name=CONFIRM,
                                allowed_decisions=["approve", "reject", "respond"]))
    return Escalation(action_requests=requests, review_configs=configs,
                      reason=diagnosis.judgment_why or "needs an engineer",
                      diagnosis=diagnosis.model_dump(mode="json"))
