"""What a check is and what it reports.

A `Check` is a deterministic detector: an id from knowledge/checks_catalog.md, the failure
mode it catches (failure-modes.md), the products it covers, the fixes, and `evaluate(ctx)`
returning `Finding`s. A finding's `subject` (the endpoint, the object) plus the check id is
its fingerprint: the same problem seen again in a later run is the same finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from tools.checks.context import CheckContext

__all__ = ["DELIVERY_SOURCES", "Check", "Finding", "Input", "Severity", "fingerprint"]

Severity = Literal["low", "medium", "high", "critical"]
# What a context can hold. Delivery evidence (tools/checks/delivery.py): "pending" = events
# from the Events API (their pending_webhooks), "processed" = the user's processed-event log
# through the mapping, "export" = an imported attempt log of the user's endpoint; "inbox" =
# what our own receiver got.
Input = Literal["stripe", "events", "local", "inbox", "pending", "processed", "export"]
DELIVERY_SOURCES: frozenset[Input] = frozenset({"pending", "processed", "export"})
_NAMES = {"stripe": "a Stripe snapshot", "events": "the Events API",
          "local": "the company database through the mapping", "inbox": "the fde receiver",
          "pending": "the Events API's pending_webhooks",
          "processed": "the processed-event log (processed_event in the mapping)",
          "export": "a delivery-attempt export"}


def fingerprint(check_id: str, subject: str) -> str:
    return hashlib.sha256(f"{check_id}|{subject}".encode()).hexdigest()[:32]


class Finding(BaseModel):
    """DESIGN §3.4: one problem, with the ids that prove it and what to do about it."""

    id: str
    check: str
    failure_mode: str | None
    severity: Severity
    products: list[str]
    subject: str
    evidence: list[str]
    summary: str
    fix: str
    systemic_fix: str
    pattern_refs: list[str]
    discrepancy_class: str | None = None
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Check:
    id: str
    failure_mode: str
    title: str
    severity: Severity
    products: tuple[str, ...]
    fix: str
    systemic_fix: str
    pattern_refs: tuple[str, ...]
    evaluate_fn: Callable[[CheckContext, Check], Iterable[Finding]]
    needs: frozenset[Input] = field(default_factory=lambda: frozenset({"stripe", "local"}))
    discrepancy_class: str | None = None
    needs_any: frozenset[Input] = frozenset()  # at least one of these (delivery evidence)

    def missing(self, available: frozenset[Input]) -> str | None:
        """Why this check cannot run on these inputs ("needs X"), None when it can."""
        lacking = [_NAMES[i] for i in sorted(self.needs - available)]
        if self.needs_any and not self.needs_any & available:
            lacking.append(" or ".join(_NAMES[i] for i in sorted(self.needs_any)))
        return f"not computable: needs {'; '.join(lacking)}" if lacking else None

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Findings sorted by subject (deterministic output for the same context)."""
        if self.missing(ctx.available):
            return []
        found = sorted(self.evaluate_fn(ctx, self), key=lambda f: f.subject)
        if self.needs_any:  # every delivery finding says which sources it stood on
            label = ctx.delivery.label("events_api", "processed_log", "fde_receiver", "export")
            for f in found:
                f.details.setdefault("sources", label)
        return found

    def finding(self, subject: str, evidence: Iterable[str | None], summary: str, *,
                severity: Severity | None = None,
                details: dict[str, str | int | float | bool | None] | None = None) -> Finding:
        ids = list(dict.fromkeys(e for e in evidence if e))
        return Finding(
            id="fnd_" + fingerprint(self.id, subject)[:24], check=self.id,
            failure_mode=self.failure_mode, severity=severity or self.severity,
            products=list(self.products), subject=subject, evidence=ids, summary=summary,
            fix=self.fix, systemic_fix=self.systemic_fix, pattern_refs=list(self.pattern_refs),
            discrepancy_class=self.discrepancy_class, details=details or {},
        )
