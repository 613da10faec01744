"""A solution design draft: recommendations, risks and open questions, each citing the
requirement fields that caused it (``countries[DE] + payment_methods[sepa_debit]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DesignDraft", "OpenQuestion", "Recommendation", "Risk"]

RecKind = Literal["product", "object", "blueprint", "pattern"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recommendation(_Strict):
    kind: RecKind
    ref: str = Field(description="product name, object, blueprint kind or pattern id")
    reason: str
    because: list[str] = Field(min_length=1, description="requirement fields that caused it")
    example: str | None = Field(None, description="blueprint example file, when one exists")


class Risk(_Strict):
    text: str
    because: list[str] = Field(min_length=1)


class OpenQuestion(_Strict):
    question: str
    because: list[str] = Field(min_length=1)
    options: list[str] = Field(default_factory=list)


class DesignDraft(_Strict):
    requirements: str = Field(description="the intake's name")
    recommendations: list[Recommendation]
    related_patterns: list[Recommendation] = Field(
        default_factory=list, description="patterns retrieval adds beyond the rules' own")
    risks: list[Risk]
    open_questions: list[OpenQuestion]
    tool_errors: list[str] = Field(
        default_factory=list, description="tools that failed while drafting, with why: the "
        "draft is shown as incomplete rather than silently missing what they would add")

    def refs(self, kind: RecKind) -> list[str]:
        return [r.ref for r in self.recommendations if r.kind == kind]
