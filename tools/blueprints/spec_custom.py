"""Custom billing logic blueprints: a plugin, its params, the customers and the period."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tools.blueprints.plugins import get_plugin
from tools.blueprints.spec_common import Strict, check_currency
from tools.blueprints.spec_usage import UsageColumns

__all__ = ["CustomLogicBlueprint", "CustomerRef", "Period", "UsageFile"]


class Period(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end <= self.start:
            raise ValueError("period.end must be after period.start")
        return self


class CustomerRef(Strict):
    """Who pays: ``usage_key`` is the value in the usage file's customer column, and the
    Stripe customer is found by ``email`` or given by ``id``."""

    usage_key: str
    email: str | None = None
    id: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CustomerRef:
        if (self.email is None) == (self.id is None):
            raise ValueError("give exactly one of email or id")
        return self


class UsageFile(Strict):
    csv: str = Field(description="path relative to the blueprint file")
    columns: UsageColumns = Field(default_factory=UsageColumns)


class CustomLogicBlueprint(Strict):
    kind: Literal["custom_logic"]
    name: str
    description: str | None = None
    plugin: str
    params: dict[str, Any]
    currency: str
    period: Period
    customers: list[CustomerRef] = Field(min_length=1)
    usage: UsageFile

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _plugin(self) -> CustomLogicBlueprint:
        plugin = get_plugin(self.plugin)
        try:
            plugin.params_model.model_validate(self.params)
        except ValueError as exc:
            raise ValueError(f"params do not fit plugin {self.plugin!r}: {exc}") from None
        return self

    def plugin_params(self) -> Any:
        return get_plugin(self.plugin).params_model.model_validate(self.params)
