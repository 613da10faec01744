"""Roadmap signals: what the field sees across engagements, grouped for product teams.

Every finding, reconciliation discrepancy and escalation is an `Occurrence`; occurrences
with the same failure mode (or discrepancy class) form a `Signal` in one of three
categories. Money stays integer minor units per currency; nothing is converted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["CATEGORIES", "Category", "CategoryTotal", "Exemplar", "Occurrence", "Signal",
           "SignalReport", "Source", "Trend"]

Category = Literal["integration_gap", "migration_friction", "multi_product_failure"]
CATEGORIES: tuple[Category, ...] = ("integration_gap", "migration_friction",
                                    "multi_product_failure")
Source = Literal["finding", "discrepancy", "escalation"]
Trend = Literal["new", "rising", "steady", "falling"]


class Occurrence(BaseModel):
    source: Source
    engagement: str
    signal: str = Field(description="failure mode (FM-14), discrepancy class or escalation kind")
    title: str
    category: Category
    products: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    summary: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    seen_at: datetime


class Exemplar(BaseModel):
    engagement: str
    source: Source
    summary: str
    evidence: list[str]


class Signal(BaseModel):
    id: str
    title: str
    category: Category
    count: int
    by_source: dict[str, int]
    engagements: list[str]
    by_engagement: dict[str, int]
    products: list[str]
    money_impact: dict[str, int] = Field(description="currency -> minor units (absolute)")
    exemplars: list[Exemplar]
    weekly: list[int] = Field(description="occurrences first seen per week, oldest first")
    trend: Trend


class CategoryTotal(BaseModel):
    category: Category
    count: int
    signals: int
    engagements: list[str]
    money_impact: dict[str, int]


class SignalReport(BaseModel):
    generated_at: datetime
    engagements: list[str]
    sources: dict[str, int]
    escalations_read: bool = Field(description="False when the escalations table is absent")
    categories: list[CategoryTotal]
    signals: list[Signal]
    weeks: list[str] = Field(description="ISO week labels of the `weekly` series")
