"""The shadow report (DESIGN §7) and the pieces it is made of, as pydantic models.

    ShadowRun
     ├── run: RunInfo {id, mode, primary, candidate, api_version, corpus_hash, fault_seed}
     ├── verdict PASS | FAIL | INCONCLUSIVE (+ reasons)
     ├── totals, noise, by_event_type (by_cause for billing), state_diffs
     ├── fault_matrix: [FaultCell {fault, invariant, primary, candidate}]
     ├── money_impact: [MoneyImpact {currency, amount_minor}]
     └── top_mismatches: [Mismatch {..., repro}]
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "CellStatus", "FaultCell", "Mismatch", "MoneyImpact", "Noise", "RunInfo",
    "RunSummary", "ShadowRun", "StateDiff", "Verdict",
]


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


CellStatus = Literal["holds", "broken", "not_run"]


class RunInfo(BaseModel):
    id: str
    mode: Literal["webhook_replay", "billing_parallel"]
    engagement: str | None = None
    primary: str
    candidate: str
    api_version: str | None = None
    corpus_hash: str | None = None
    corpus_events: int = 0
    fault_seed: int | None = None
    faults: list[str] = Field(default_factory=list)
    started_at: datetime
    finished_at: datetime | None = None


class StateDiff(BaseModel):
    """One field of one user row that differs between the primary's and the candidate's."""

    entity: str
    key: str
    field: str
    primary: Any = None
    candidate: Any = None


class Mismatch(BaseModel):
    """A difference that is not noise, attributed to an event type and an invariant."""

    kind: Literal["http_status", "http_body", "state", "invariant", "billing"]
    invariant: str
    event_type: str | None = None
    event_id: str | None = None
    object_id: str | None = None
    fault: str | None = None  # None: the clean replay
    detail: str
    primary: Any = None
    candidate: Any = None
    amount_minor: int | None = None
    currency: str | None = None
    causes: list[str] = Field(default_factory=list)  # billing: why the amounts differ
    repro: str = ""


class Noise(BaseModel):
    """Differences between two runs of the primary; the same ones are dropped from the
    candidate comparison."""

    primary_vs_primary: int = 0
    removed: int = 0
    fields: list[str] = Field(default_factory=list)  # "entity.field" / "body:path", sorted


class FaultCell(BaseModel):
    fault: str
    invariant: str
    primary: CellStatus
    candidate: CellStatus
    candidate_in_clean_run: CellStatus = "not_run"  # was it already broken without the fault
    violations: int = 0
    example: str | None = None

    @property
    def fault_induced(self) -> bool:
        return self.candidate == "broken" and self.candidate_in_clean_run == "holds"


class MoneyImpact(BaseModel):
    currency: str
    amount_minor: int
    mismatches: int


class ShadowRun(BaseModel):
    run: RunInfo
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)
    totals: dict[str, int] = Field(default_factory=dict)
    noise: Noise = Field(default_factory=Noise)
    by_event_type: dict[str, int] = Field(default_factory=dict)
    by_cause: dict[str, int] = Field(default_factory=dict)  # billing_parallel
    state_diffs: list[StateDiff] = Field(default_factory=list)
    fault_matrix: list[FaultCell] = Field(default_factory=list)
    money_impact: list[MoneyImpact] = Field(default_factory=list)
    top_mismatches: list[Mismatch] = Field(default_factory=list)
    mismatches: list[Mismatch] = Field(default_factory=list)


class RunSummary(BaseModel):
    """A stored run without its body (for lists)."""

    id: str
    engagement: str | None
    mode: str
    verdict: Verdict
    primary: str
    candidate: str
    corpus_hash: str | None
    started_at: datetime
    mismatches: int
