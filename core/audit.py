"""The audit log: every decision and every write leaves one row, in the same transaction
as the change it describes (so there is never a change without its audit entry)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AuditRow
from core.redact import redact_value


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    engagement: str | None
    details: dict[str, Any]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    engagement: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(actor=actor, action=action, target=target, engagement=engagement,
                 details=redact_value(details or {}, pii=False))
    )


def entries(session: Session, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if target is not None:
        query = query.where(AuditRow.target == target)
    return [AuditEntry.model_validate(row) for row in session.scalars(query)]
