"""Plans: what a blueprint wants versus what the account has, Terraform-style.

Every managed thing is an item with a stable key (``price:api_pro_eur``). A handler reports
the desired fields and the observed fields for each key; `diff` turns the pair into an
action with field-level changes, and the handler turns the action into the exact writes.
Writes are resolved at plan time, so an approved plan is executed as reviewed, and the
plan's digest is what an engineer approves.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Action", "Desired", "FieldChange", "Observed", "Plan", "PlanItem", "Scalar", "Write",
           "diff"]

Action = Literal["create", "update", "replace", "deactivate", "delete", "no-op", "skip"]
Scalar = str | int | bool | None
CHANGING: frozenset[str] = frozenset({"create", "update", "replace", "deactivate", "delete"})


class Write(BaseModel):
    """One request: a Stripe write through the gateway, or a row of engagement config."""

    target: Literal["stripe", "config"] = "stripe"
    method: Literal["post", "delete", "put"] = "post"
    path: str = Field(description="/v1/... for Stripe, the config key for config")
    params: dict[str, Any] = Field(default_factory=dict)


class FieldChange(BaseModel):
    field: str
    before: Scalar
    after: Scalar


class Desired(BaseModel):
    key: str
    object: str
    fields: dict[str, Scalar]
    immutable: frozenset[str] = frozenset()


class Observed(BaseModel):
    key: str
    object: str
    id: str | None
    fields: dict[str, Scalar]
    managed: bool = True  # False: present on the account but not ours to remove


class PlanItem(BaseModel):
    key: str
    object: str
    action: Action
    target_id: str | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    writes: list[Write] = Field(default_factory=list)
    note: str = ""

    @property
    def changing(self) -> bool:
        return self.action in CHANGING


class Plan(BaseModel):
    engagement: str
    blueprint: str
    kind: str
    items: list[PlanItem]
    notes: list[str] = Field(default_factory=list)

    @property
    def changes(self) -> list[PlanItem]:
        return [i for i in self.items if i.changing]

    @property
    def digest(self) -> str:
        """What an approval is bound to: the changing items and their exact writes."""
        body = [i.model_dump(mode="json") for i in self.changes]
        raw = json.dumps([self.engagement, self.blueprint, body], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.action] = out.get(item.action, 0) + 1
        return out


def diff(desired: Desired | None, observed: Observed | None) -> tuple[Action, list[FieldChange]]:
    """The action that takes `observed` to `desired` and the fields it changes."""
    if desired is None:
        if observed is None or not observed.managed:
            return "no-op", []
        if observed.fields.get("active") is False:
            return "no-op", []
        return "deactivate", [FieldChange(field="active", before=True, after=False)]
    if observed is None:
        return "create", [FieldChange(field=k, before=None, after=v)
                          for k, v in sorted(desired.fields.items())]
    changes = [FieldChange(field=k, before=observed.fields.get(k), after=v)
               for k, v in sorted(desired.fields.items()) if observed.fields.get(k) != v]
    if not changes:
        return "no-op", []
    if any(c.field in desired.immutable for c in changes):
        return "replace", changes
    return "update", changes
