"""Cases: one per problem, whatever the number of runs that saw it.

A finding or a discrepancy opens a case, or joins the open one with the same dedupe key
(engagement + check id or class + object id), so the same stale row seen by six runs is one
case seen six times. A case that stops being reported by a complete run is closed as "no
longer reported" (someone fixed it, or our repair did); reported again later, it re-opens.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from agents.autopilot.tables import aware, cases
from core.ids import new_id
from tools.checks.model import Finding
from tools.recon.models import Discrepancy

__all__ = ["OPEN", "Case", "CaseItem", "close_unseen", "from_discrepancy", "from_finding",
           "case_from_row", "get_case", "list_cases", "observe", "set_status"]

Source = Literal["finding", "discrepancy", "shadow"]
Status = Literal["open", "escalated", "resolved"]
OPEN = ("open", "escalated")
_HIGH = {"DUPLICATE_REMOTE", "ORPHAN_APPLICATION", "REVERSED_AFTER_APPLICATION",
         "UNAPPLIED_PAYMENT", "PAYOUT_BREAK"}


class CaseItem(BaseModel):
    """What one run reported, reduced to what a case needs."""

    source: Source
    kind: str  # check id or discrepancy class
    object_id: str
    entity: str | None = None
    severity: str
    summary: str
    money_minor: int | None = None
    currency: str | None = None
    evidence: list[str] = Field(default_factory=list)
    item: dict[str, Any]

    @property
    def dedupe_key(self) -> str:
        raw = f"{self.source}|{self.kind}|{self.object_id}"
        return raw if len(raw) <= 200 else raw[:160] + "|" + hashlib.sha256(
            raw.encode()).hexdigest()[:32]


class Case(CaseItem):
    id: str
    engagement: str
    status: Status
    seen_count: int
    first_seen: datetime
    last_seen: datetime
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    triage: dict[str, Any] | None = None
    escalation: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None


def from_discrepancy(d: Discrepancy) -> CaseItem:
    cls = d.class_.value
    severity = ("high" if cls in _HIGH or cls.startswith("AMOUNT_MISMATCH")
                else "low" if d.pending else "medium")
    return CaseItem(
        source="discrepancy", kind=cls, entity=d.entity, severity=severity,
        object_id=d.stripe_id or d.local_key or next(iter(d.evidence.stripe), d.id),
        summary=d.reason or f"{cls} on {d.entity} {d.stripe_id or d.local_key}",
        money_minor=d.money_impact or None, currency=d.currency,
        evidence=[*d.evidence.stripe, *d.evidence.local],
        item=d.model_dump(mode="json", by_alias=True))


def from_finding(f: Finding) -> CaseItem:
    amount = f.details.get("amount")
    return CaseItem(
        source="finding", kind=f.check, object_id=f.subject, severity=f.severity,
        summary=f.summary, evidence=f.evidence,
        money_minor=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=str(f.details["currency"]) if f.details.get("currency") else None,
        item=f.model_dump(mode="json"))


def case_from_row(row: Any) -> Case:
    data = dict(row._mapping)
    for key in ("first_seen", "last_seen", "escalated_at", "closed_at"):
        data[key] = aware(data[key])
    return Case.model_validate(data)


def get_case(session: Session, case_id: str) -> Case:
    return case_from_row(session.execute(select(cases).where(cases.c.id == case_id)).one())


def observe(session: Session, engagement: str, item: CaseItem, *, now: datetime
            ) -> tuple[Case, bool]:
    """Open a case for ``item`` or join the existing one; True when it is new or re-opened
    (it needs handling), False when an open case simply saw it again."""
    key = item.dedupe_key
    row = session.execute(select(cases).where(cases.c.engagement == engagement,
                                              cases.c.dedupe_key == key)).first()
    seen = item.model_dump(exclude={"source", "kind", "object_id"})
    if row is None:
        cid = new_id("case")
        session.execute(insert(cases).values(
            id=cid, engagement=engagement, dedupe_key=key, source=item.source, kind=item.kind,
            object_id=item.object_id, status="open", seen_count=1, first_seen=now,
            last_seen=now, **seen))
        return get_case(session, cid), True
    reopened = row.status == "resolved"
    values: dict[str, Any] = {"seen_count": row.seen_count + 1, "last_seen": now, **seen}
    if reopened:  # it came back: a new problem to handle, history kept in `resolution`
        values |= {"status": "open", "closed_at": None, "escalated_at": None,
                   "escalation": None}
    session.execute(update(cases).where(cases.c.id == row.id).values(values))
    return get_case(session, row.id), reopened


def set_status(session: Session, case_id: str, status: Status, **fields: Any) -> Case:
    session.execute(update(cases).where(cases.c.id == case_id).values(status=status, **fields))
    return get_case(session, case_id)


def close_unseen(session: Session, engagement: str, source: Source, seen: set[str], *,
                 kinds: set[str] | None, now: datetime, how: str) -> list[Case]:
    """Close open cases of ``source`` (limited to ``kinds`` when given) not in ``seen``."""
    query = select(cases).where(cases.c.engagement == engagement, cases.c.source == source,
                                cases.c.status.in_(OPEN))
    closed = []
    for row in session.execute(query).all():
        if row.dedupe_key in seen or (kinds is not None and row.kind not in kinds):
            continue
        closed.append(set_status(session, row.id, "resolved", closed_at=now, resolution={
            **(row.resolution or {}), "how": how, "verified": True, "at": now.isoformat()}))
    return closed


def list_cases(session: Session, *, engagement: str | None = None,
               status: str | None = None) -> list[Case]:
    query = select(cases).order_by(cases.c.engagement, cases.c.first_seen, cases.c.id)
    if engagement:
        query = query.where(cases.c.engagement == engagement)
    if status:
        query = query.where(cases.c.status == status)
    return [case_from_row(r) for r in session.execute(query).all()]
