"""The failure-mode catalogue (failure_modes.yaml) and the matching of reconciliation
discrepancies against each mode's signals."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

__all__ = ["FailureMode", "Signal", "load_catalog"]

CATALOG_PATH = Path(__file__).with_name("failure_modes.yaml")


class Signal(BaseModel):
    class_: str = Field(alias="class")
    entity: str | None = None
    fields: list[str] = Field(default_factory=list)
    reason: str | None = None
    currency: list[str] = Field(default_factory=list)
    stripe_values: dict[str, Any] = Field(default_factory=dict)
    local_values: dict[str, Any] = Field(default_factory=dict)
    weight: float = 1.0

    def matches(self, d: dict[str, Any]) -> bool:
        if d.get("class") != self.class_:
            return False
        if self.entity and d.get("entity") != self.entity:
            return False
        if self.fields and not set(self.fields) & set(d.get("fields") or []):
            return False
        if self.reason and self.reason.lower() not in (d.get("reason") or "").lower():
            return False
        if self.currency and (d.get("currency") or "").lower() not in self.currency:
            return False
        for side, wanted in (("stripe_values", self.stripe_values),
                             ("local_values", self.local_values)):
            got = d.get(side) or {}
            if any(got.get(k) != v for k, v in wanted.items()):
                return False
        return True


class FailureMode(BaseModel):
    id: str
    slug: str
    category: str
    products: list[str]
    symptom: str
    cause: str
    classes: list[str]
    signals: list[Signal] = Field(default_factory=list)
    fix: str
    systemic_fix: str
    needs_judgment: bool
    judgment: str

    @property
    def title(self) -> str:
        return self.slug.replace("-", " ")


@cache
def load_catalog(path: Path = CATALOG_PATH) -> tuple[FailureMode, ...]:
    return tuple(FailureMode.model_validate(d) for d in yaml.safe_load(path.read_text()))
