"""Metering blueprints: billing meters, usage ingestion from the user's CSV or SQL table, and
what to do with usage that arrives late.

Each usage row becomes one meter event whose ``identifier`` is derived from the blueprint and
the row's own id, so sending a row twice is counted once by Stripe (and by the replica).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from tools.blueprints.spec_common import Strict

__all__ = ["LateUsagePolicy", "MeterSpec", "MeteringBlueprint", "UsageColumns", "UsageSource"]


class MeterSpec(Strict):
    event_name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    display_name: str
    aggregation: Literal["sum", "count", "last"] = "sum"
    customer_key: str = "stripe_customer_id"
    value_key: str = "value"


class UsageColumns(Strict):
    id: str = "id"
    customer: str = "customer"
    value: str = "value"
    timestamp: str = Field("timestamp", description="unix seconds or ISO 8601")


class SqlSource(Strict):
    dsn_env: str = Field(description="environment variable holding the SQLAlchemy URL")
    query: str

    @model_validator(mode="after")
    def _read_only(self) -> SqlSource:
        if not re.match(r"\s*select\b", self.query, re.IGNORECASE):
            raise ValueError("the usage query must be a SELECT")
        return self


class UsageSource(Strict):
    meter: str = Field(description="event_name of the meter the rows feed")
    csv: str | None = Field(None, description="path relative to the blueprint file")
    sql: SqlSource | None = None
    columns: UsageColumns = Field(default_factory=UsageColumns)
    customer_match: Literal["id", "email"] = Field(
        "id", description="the customer column holds Stripe customer ids, or their emails")

    @model_validator(mode="after")
    def _one_source(self) -> UsageSource:
        if (self.csv is None) == (self.sql is None):
            raise ValueError("give exactly one of csv or sql")
        return self


class LateUsagePolicy(Strict):
    """Stripe accepts meter events up to 35 days old; after an invoice is finalised, late
    events no longer change it (FM-29). `max_age_days` is where this company draws the line."""

    max_age_days: int = Field(3, ge=0, le=35)
    action: Literal["drop", "bill_now"] = Field(
        "drop", description="drop and report late rows, or send them stamped with the current time"
    )


class MeteringBlueprint(Strict):
    kind: Literal["metering"]
    name: str
    description: str | None = None
    meters: list[MeterSpec]
    usage: UsageSource | None = None
    late_usage: LateUsagePolicy = Field(default_factory=LateUsagePolicy)

    @model_validator(mode="after")
    def _meter_known(self) -> MeteringBlueprint:
        names = [m.event_name for m in self.meters]
        if len(set(names)) != len(names):
            raise ValueError("meter event_name values must be unique")
        if self.usage is not None and self.usage.meter not in names:
            raise ValueError(f"usage.meter {self.usage.meter!r} is not one of the meters: "
                             f"{', '.join(names)}")
        return self
