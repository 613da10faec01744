"""Drafts in the app database (``learning_drafts``, migration 0006) and their approval.

Nothing reaches the library without an engineer: `approve_draft` is the only code that
writes a file into a library directory, and it refuses drafts that are not pending. One
draft per (kind, source): proposing the same lesson again returns the existing draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.orm import Session

from core import audit
from core.errors import ConfigError, NotFoundError
from core.ids import new_id
from knowledge.learning.generate import draft_text
from knowledge.learning.model import Draft, DraftKind, Lesson

__all__ = ["approve_draft", "get_draft", "list_drafts", "propose", "reject_draft"]

_meta = MetaData()
drafts = Table(
    "learning_drafts", _meta,
    Column("id", String(40), primary_key=True), Column("kind", String(16)),
    Column("source", String(255)), Column("engagement", String(64)), Column("status", String(16)),
    Column("title", String(255)), Column("file_name", String(255)), Column("body", Text),
    Column("proposed_by", String(128)),
    Column("proposed_at", DateTime(timezone=True)), Column("decided_by", String(128)),
    Column("decided_at", DateTime(timezone=True)), Column("published_to", String(512)),
)


def _draft(row: object) -> Draft:
    return Draft.model_validate(dict(row._mapping))  # type: ignore[attr-defined]


def propose(session: Session, kind: DraftKind, lesson: Lesson, *, actor: str) -> Draft:
    existing = session.execute(select(drafts).where(
        drafts.c.kind == kind, drafts.c.source == lesson.source)).first()
    if existing is not None:
        return _draft(existing)
    name, body = draft_text(kind, lesson)
    did = new_id("drf")
    session.execute(insert(drafts).values(
        id=did, kind=kind, source=lesson.source, engagement=lesson.engagement, status="draft",
        title=lesson.title, file_name=name, body=body, proposed_by=actor,
        proposed_at=datetime.now(UTC)))
    audit.record(session, actor=actor, action="learning.propose", target=f"draft:{did}",
                 engagement=lesson.engagement, details={"kind": kind, "source": lesson.source})
    return get_draft(session, did)


def get_draft(session: Session, draft_id: str) -> Draft:
    row = session.execute(select(drafts).where(drafts.c.id == draft_id)).first()
    if row is None:
        raise NotFoundError(f"no learning draft {draft_id!r}",
                            hint="list them with `fde learn list`")
    return _draft(row)


def list_drafts(session: Session, *, status: str | None = None) -> list[Draft]:
    query = select(drafts).order_by(drafts.c.proposed_at)
    if status:
        query = query.where(drafts.c.status == status)
    return [_draft(r) for r in session.execute(query)]


def _pending(session: Session, draft_id: str) -> Draft:
    draft = get_draft(session, draft_id)
    if draft.status != "draft":
        raise ConfigError(f"draft {draft_id} is already {draft.status}",
                          hint="propose the lesson again to get a new draft")
    return draft


def approve_draft(session: Session, draft_id: str, *, approver: str, library: Path) -> Draft:
    """Publish the draft's file into `library` (the pattern library, the eval scenarios or
    the proposed-checks folder) and mark it approved, with an audit entry."""
    if not approver.strip():
        raise ConfigError("approving a draft needs the approving engineer's name")
    draft = _pending(session, draft_id)
    target = library / draft.file_name
    if target.exists():
        raise ConfigError(f"{target} already exists in the library",
                          hint="edit the existing entry instead, or reject this draft")
    library.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.body)
    now = datetime.now(UTC)
    session.execute(update(drafts).where(drafts.c.id == draft_id).values(
        status="approved", decided_by=approver, decided_at=now, published_to=str(target)))
    audit.record(session, actor=approver, action="learning.approve", target=f"draft:{draft_id}",
                 engagement=draft.engagement, details={"kind": draft.kind,
                                                       "published_to": str(target)})
    return get_draft(session, draft_id)


def reject_draft(session: Session, draft_id: str, *, approver: str, reason: str) -> Draft:
    _pending(session, draft_id)
    session.execute(update(drafts).where(drafts.c.id == draft_id).values(
        status="rejected", decided_by=approver, decided_at=datetime.now(UTC)))
    audit.record(session, actor=approver, action="learning.reject", target=f"draft:{draft_id}",
                 details={"reason": reason})
    return get_draft(session, draft_id)
