"""Boundary models of reconciliation: discrepancies, the bridge statement, a run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "BridgeLine", "BridgeStatement", "DiscrepancyClass", "Discrepancy", "DiscrepancyList",
    "Evidence",
    "MoneyLeg", "ProposedRepair", "ReconRun", "RepairKind", "Verdict", "PENDING_CLASSES",
]


class DiscrepancyClass(StrEnum):
    ENV_MISMATCH = "ENV_MISMATCH"
    MISSING_LOCAL = "MISSING_LOCAL"
    ORPHAN_LOCAL = "ORPHAN_LOCAL"
    STALE_STATE = "STALE_STATE"
    STATE_REGRESSION = "STATE_REGRESSION"
    UNAPPLIED_PAYMENT = "UNAPPLIED_PAYMENT"
    APPLIED_BEFORE_FINAL = "APPLIED_BEFORE_FINAL"
    ORPHAN_APPLICATION = "ORPHAN_APPLICATION"
    REVERSED_AFTER_APPLICATION = "REVERSED_AFTER_APPLICATION"
    AMOUNT_MISMATCH_EXPONENT = "AMOUNT_MISMATCH.exponent"
    AMOUNT_MISMATCH_ROUNDING = "AMOUNT_MISMATCH.rounding"
    AMOUNT_MISMATCH_FEE_FX = "AMOUNT_MISMATCH.fee_fx"
    AMOUNT_MISMATCH_OTHER = "AMOUNT_MISMATCH.other"
    DUPLICATE_REMOTE = "DUPLICATE_REMOTE"
    DUPLICATE_LOCAL_EFFECT = "DUPLICATE_LOCAL_EFFECT"
    WEBHOOK_GAP = "WEBHOOK_GAP"
    PAYOUT_BREAK = "PAYOUT_BREAK"
    UNCLASSIFIED = "UNCLASSIFIED"


PENDING_CLASSES = frozenset({DiscrepancyClass.APPLIED_BEFORE_FINAL})
"""Classes that describe money still in flight: reported, but not a break."""


class Verdict(StrEnum):
    RECONCILED = "RECONCILED"
    RECONCILED_WITH_PENDING = "RECONCILED_WITH_PENDING"
    BREAKS = "BREAKS"
    INCOMPLETE = "INCOMPLETE"


RepairKind = Literal["upsert_local", "redeliver_event", "mark_for_engineer"]


class ProposedRepair(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RepairKind
    tier: Literal["read", "write", "money"]
    summary: str
    target: str  # local_key or Stripe id the repair acts on


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    stripe: list[str] = Field(default_factory=list)  # Stripe object / event ids
    local: list[str] = Field(default_factory=list)  # local keys ("table:pk") / event ids


class MoneyLeg(BaseModel):
    """A signed effect on the bridge (local minus Stripe) in one currency."""

    model_config = ConfigDict(frozen=True)

    currency: str
    amount: int


class Discrepancy(BaseModel):
    id: str
    class_: DiscrepancyClass = Field(alias="class")
    entity: str
    stripe_id: str | None = None
    local_key: str | None = None
    fields: list[str] = Field(default_factory=list)
    stripe_values: dict[str, str | int | bool | None] = Field(default_factory=dict)
    local_values: dict[str, str | int | bool | None] = Field(default_factory=dict)
    amount_minor: int | None = None
    currency: str | None = None
    money_impact: int | None = None  # local − Stripe, minor units of `currency`
    bridge_legs: list[MoneyLeg] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)
    reason: str = ""
    needs_review: bool = False
    confidence: float | None = None
    proposed_repair: ProposedRepair | None = None

    model_config = ConfigDict(populate_by_name=True)

    @property
    def pending(self) -> bool:
        return self.class_ in PENDING_CLASSES


class BridgeLine(BaseModel):
    label: str  # a class name
    count: int
    amount: int


class BridgeStatement(BaseModel):
    """Stripe total → adjustments by class → user total, for one currency (net of refunds).

    When the mapped data cannot total both sides, ``computable`` is false, ``reason`` says
    why and every amount is None: never a "0 = 0" that looks balanced. ``currency`` None
    means "every currency" (nothing says which ones money was collected in).
    """

    currency: str | None
    computable: bool = True
    reason: str | None = None
    stripe_gross: int | None
    stripe_refunds: int | None
    stripe_total: int | None
    adjustments: list[BridgeLine]
    user_gross: int | None
    user_refunds: int | None
    user_total: int | None
    residual: int | None  # user_total − (stripe_total + Σ adjustments); must be 0

    @property
    def balanced(self) -> bool:
        return self.computable and self.residual == 0

    @property
    def label(self) -> str:
        return self.currency.upper() if self.currency else "all currencies"

    @classmethod
    def not_computable(cls, currency: str | None, reason: str) -> BridgeStatement:
        return cls(currency=currency, computable=False, reason=reason, stripe_gross=None,
                   stripe_refunds=None, stripe_total=None, adjustments=[], user_gross=None,
                   user_refunds=None, user_total=None, residual=None)


class DiscrepancyList(Sequence[Discrepancy]):
    """A run's discrepancies: kept as the engine's columnar rows and turned into models only
    for what is read (an index, a slice, an iteration), each built once.

    Validated from a plain list as well (stored runs of the JSON era, API clients), and
    serialised as the list of models, so the field looks like ``list[Discrepancy]`` in every
    schema.
    """

    def __init__(self, items: list[Discrepancy] | None = None, *,
                 frame: pl.DataFrame | None = None) -> None:
        self._frame = frame  # DISC_SCHEMA + ``id``; None when built from models
        self._built: dict[int, Discrepancy] = dict(enumerate(items or []))
        self._len = frame.height if frame is not None else len(items or [])

    @property
    def frame(self) -> pl.DataFrame | None:
        """The columnar rows (None when the list was given as models)."""
        return self._frame

    def __len__(self) -> int:
        return self._len

    def _build(self, start: int, stop: int) -> None:
        missing = [i for i in range(start, stop) if i not in self._built]
        if not missing or self._frame is None:
            return
        from tools.recon.rows import build  # rows → models needs repair rules (imports us)

        lo, hi = missing[0], missing[-1] + 1
        for offset, item in enumerate(build(self._frame.slice(lo, hi - lo))):
            self._built.setdefault(lo + offset, item)

    @overload
    def __getitem__(self, index: int) -> Discrepancy: ...
    @overload
    def __getitem__(self, index: slice) -> list[Discrepancy]: ...
    def __getitem__(self, index: int | slice) -> Discrepancy | list[Discrepancy]:
        if isinstance(index, slice):
            picked = range(*index.indices(self._len))
            if picked.step == 1 and len(picked):
                self._build(picked.start, picked.stop)
            return [self[i] for i in picked]
        i = index + self._len if index < 0 else index
        if not 0 <= i < self._len:
            raise IndexError(index)
        self._build(i, i + 1)
        return self._built[i]

    def __iter__(self) -> Iterator[Discrepancy]:
        self._build(0, self._len)
        return (self._built[i] for i in range(self._len))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DiscrepancyList({self._len} rows)"

    @classmethod
    def _of(cls, items: list[Discrepancy]) -> DiscrepancyList:
        return cls(items)

    def _dump(self, info: core_schema.SerializationInfo) -> list[Any]:
        return [d.model_dump(mode=info.mode, by_alias=bool(info.by_alias)) for d in self]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        from_list = core_schema.no_info_after_validator_function(
            cls._of, handler.generate_schema(list[Discrepancy]))
        return core_schema.json_or_python_schema(
            json_schema=from_list,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_list]),
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._dump, info_arg=True))


class ReconRun(BaseModel):
    id: str
    engagement: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    verdict: Verdict
    incomplete_reasons: list[str] = Field(default_factory=list)
    scope: dict[str, str | int | list[str] | None] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)  # by class
    compared: dict[str, int] = Field(default_factory=dict)  # rows compared per entity
    bridge: list[BridgeStatement] = Field(default_factory=list)
    discrepancies: DiscrepancyList = Field(default_factory=DiscrepancyList)
    warnings: list[str] = Field(default_factory=list)
