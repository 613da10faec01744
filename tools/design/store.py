"""Stored design drafts: created as ``draft``, edited by an engineer while a draft, then
``approved`` with the approver recorded. Every change writes an audit entry in the same
transaction. Nothing here sends a draft anywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import Session

from core import audit
from core.errors import ConfigError, NotFoundError
from core.ids import new_id
from tools.design.draft import DesignDraft
from tools.design.requirements import Requirements

__all__ = ["StoredDesign", "approve", "create", "edit", "get", "list_designs"]

Status = Literal["draft", "approved"]

_meta = MetaData()
designs = Table(
    "design_drafts", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("status", String(16)), Column("requirements", JSON), Column("draft", JSON),
    Column("created_at", DateTime(timezone=True)), Column("created_by", String(128)),
    Column("updated_at", DateTime(timezone=True)),
    Column("approved_at", DateTime(timezone=True)), Column("approved_by", String(128)),
)


class StoredDesign(BaseModel):
    id: str
    engagement: str
    status: Status
    requirements: Requirements
    draft: DesignDraft
    created_at: datetime
    created_by: str
    updated_at: datetime
    approved_at: datetime | None
    approved_by: str | None


def create(session: Session, *, engagement: str, requirements: Requirements,
           draft: DesignDraft, actor: str) -> StoredDesign:
    now = datetime.now(UTC)
    design_id = new_id("dsg")
    session.execute(insert(designs).values(
        id=design_id, engagement=engagement, status="draft",
        requirements=requirements.model_dump(mode="json"), draft=draft.model_dump(mode="json"),
        created_at=now, created_by=actor, updated_at=now))
    audit.record(session, actor=actor, action="design.draft", target=design_id,
                 engagement=engagement,
                 details={"requirements": requirements.name,
                          "open_questions": len(draft.open_questions)})
    return get(session, design_id)


def get(session: Session, design_id: str) -> StoredDesign:
    row = session.execute(select(designs).where(designs.c.id == design_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no design draft {design_id!r}",
                            hint="list drafts with `fde design list`")
    return StoredDesign.model_validate(dict(row))


def list_designs(session: Session, engagement: str | None = None) -> list[StoredDesign]:
    query = select(designs).order_by(designs.c.created_at.desc())
    if engagement:
        query = query.where(designs.c.engagement == engagement)
    return [StoredDesign.model_validate(dict(r)) for r in session.execute(query).mappings()]


def _draft_only(found: StoredDesign, verb: str) -> None:
    if found.status != "draft":
        raise ConfigError(
            f"design {found.id} was approved by {found.approved_by}; it cannot be {verb}",
            hint="draft a new design from the requirements (`fde design draft FILE`)")


def edit(session: Session, design_id: str, draft: DesignDraft, *, actor: str) -> StoredDesign:
    found = get(session, design_id)
    _draft_only(found, "edited")
    session.execute(update(designs).where(designs.c.id == design_id).values(
        draft=draft.model_dump(mode="json"), updated_at=datetime.now(UTC)))
    audit.record(session, actor=actor, action="design.edit", target=design_id,
                 engagement=found.engagement,
                 details={"recommendations": len(draft.recommendations),
                          "open_questions": len(draft.open_questions)})
    return get(session, design_id)


def approve(session: Session, design_id: str, *, actor: str,
            accept_open_questions: bool = False) -> StoredDesign:
    """Freeze a draft. Open questions are the engineer's to answer or to accept as they
    stand — explicitly, and recorded — never approved over silently."""
    found = get(session, design_id)
    _draft_only(found, "approved again")
    questions = [q.question for q in found.draft.open_questions]
    if questions and not accept_open_questions:
        raise ConfigError(
            f"design {design_id} still has {len(questions)} open question(s): "
            + " | ".join(questions[:3]),
            hint="answer them with `fde design edit`, or approve with "
                 "--accept-open-questions to record that they were accepted as open")
    now = datetime.now(UTC)
    session.execute(update(designs).where(designs.c.id == design_id).values(
        status="approved", approved_at=now, approved_by=actor, updated_at=now))
    audit.record(session, actor=actor, action="design.approve", target=design_id,
                 engagement=found.engagement,
                 details={"open_questions": len(questions),
                          "accepted_open_questions": questions})
    return get(session, design_id)
