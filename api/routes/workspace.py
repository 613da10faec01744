"""`/workspace/{engagement}`: the engagement workspace — timeline, search, contacts, meeting
notes, the decision log and its ADR export, and architecture review items tracked to
resolution. Reads need a viewer, writes an engineer; the actor of every write is the
caller's principal (audited by the workspace room)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agents.wiring import knowledge_opener
from agents.workspace import review_engagement
from api.deps import Db, Engineer, IdPath, NamePath, Viewer
from api.errors import Conflict
from core import engagements
from core.storage import Database
from knowledge.config import load_knowledge_settings
from knowledge.patterns import load_patterns
from tools.workspace import AdrFile, export_adrs, reviews, search, store, timeline
from tools.workspace.errors import WorkspaceNotFound, WorkspaceStateError
from tools.workspace.models import (
    Contact,
    ContactCreate,
    Decision,
    DecisionCreate,
    EntryKind,
    Note,
    NoteCreate,
    ReviewItem,
    ReviewItemStatus,
    SearchHit,
    TimelineEntry,
)

router = APIRouter(prefix="/workspace", tags=["workspace"])
_ERR = {404: {"description": "unknown engagement, decision or review item"},
        409: {"description": "the record's state forbids it (e.g. a superseded decision)"}}


class WorkspaceView(BaseModel):
    engagement: str
    contacts: list[Contact]
    decisions: list[Decision]
    notes: list[Note]
    review_items: list[ReviewItem]


class ResolveIn(BaseModel):
    status: Literal["accepted", "resolved", "wont_fix"]
    why: str


class ReviewOut(BaseModel):
    review_id: str
    map_version: int | None
    items: list[ReviewItem]


@contextmanager
def _session(db: Database) -> Iterator[Session]:
    """A unit of work whose state conflicts answer 409 instead of 400."""
    try:
        with db.session() as session:
            yield session
    except WorkspaceStateError as exc:
        raise Conflict(exc.message, hint=exc.hint) from None


@router.get("/{engagement}", response_model=WorkspaceView, responses=_ERR)
def get_workspace(engagement: NamePath, db: Db, _: Viewer) -> WorkspaceView:
    with db.session() as session:
        engagements.get(session, engagement)
        return WorkspaceView(engagement=engagement,
                             contacts=store.list_contacts(session, engagement),
                             decisions=store.list_decisions(session, engagement),
                             notes=store.list_notes(session, engagement),
                             review_items=reviews.list_items(session, engagement))


@router.get("/{engagement}/timeline", response_model=list[TimelineEntry], responses=_ERR)
def get_timeline(engagement: NamePath, db: Db, _: Viewer,
                 kind: Annotated[list[EntryKind] | None, Query()] = None
                 ) -> list[TimelineEntry]:
    with db.session() as session:
        return timeline(session, engagement, kinds=set(kind) if kind else None)


@router.get("/{engagement}/search", response_model=list[SearchHit], responses=_ERR)
def search_workspace(engagement: NamePath, db: Db, _: Viewer,
                     q: Annotated[str, Query(min_length=1, max_length=500)],
                     limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[SearchHit]:
    with db.session() as session:
        engagements.get(session, engagement)  # an unknown engagement is a 404 before any q
        return search(session, engagement, q, limit=limit)


@router.get("/{engagement}/decisions", response_model=list[Decision], responses=_ERR)
def list_decisions(engagement: NamePath, db: Db, _: Viewer) -> list[Decision]:
    with db.session() as session:
        engagements.get(session, engagement)
        return store.list_decisions(session, engagement)


@router.get("/{engagement}/adrs", response_model=list[AdrFile], responses=_ERR)
def export(engagement: NamePath, db: Db, _: Viewer) -> list[AdrFile]:
    """Every decision rendered as a numbered markdown ADR (file name + content)."""
    with db.session() as session:
        engagements.get(session, engagement)
        return export_adrs(store.list_decisions(session, engagement))


@router.post("/{engagement}/notes", response_model=Note, status_code=201, responses=_ERR)
def add_note(engagement: NamePath, body: NoteCreate, db: Db, who: Engineer) -> Note:
    with db.session() as session:
        return store.add_note(session, engagement, body, actor=who.actor)


@router.post("/{engagement}/contacts", response_model=Contact, status_code=201,
             responses=_ERR)
def add_contact(engagement: NamePath, body: ContactCreate, db: Db, who: Engineer) -> Contact:
    with db.session() as session:
        return store.add_contact(session, engagement, body, actor=who.actor)


@router.post("/{engagement}/decisions", response_model=Decision, status_code=201,
             responses=_ERR)
def add_decision(engagement: NamePath, body: DecisionCreate, db: Db, who: Engineer) -> Decision:
    with _session(db) as session:
        return store.add_decision(session, engagement, body, actor=who.actor)


@router.post("/{engagement}/decisions/{number}/accept", response_model=Decision,
             responses=_ERR)
def accept_decision(engagement: NamePath, number: Annotated[int, Path(ge=1, le=2**31 - 1)], db: Db,
                    who: Engineer) -> Decision:
    with _session(db) as session:
        return store.accept_decision(session, engagement, number, actor=who.actor)


class CloseDecision(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why, for the log")


@router.post("/{engagement}/decisions/{number}/reject", response_model=Decision,
             responses=_ERR)
def reject_decision(engagement: NamePath, number: Annotated[int, Path(ge=1, le=2**31 - 1)],
                    body: CloseDecision, db: Db, who: Engineer) -> Decision:
    with _session(db) as session:
        return store.close_decision(session, engagement, number, outcome="rejected",
                                    reason=body.reason, actor=who.actor)


@router.post("/{engagement}/decisions/{number}/withdraw", response_model=Decision,
             responses=_ERR)
def withdraw_decision(engagement: NamePath, number: Annotated[int, Path(ge=1, le=2**31 - 1)],
                      body: CloseDecision, db: Db, who: Engineer) -> Decision:
    with _session(db) as session:
        return store.close_decision(session, engagement, number, outcome="withdrawn",
                                    reason=body.reason, actor=who.actor)


@router.get("/{engagement}/review-items", response_model=list[ReviewItem], responses=_ERR)
def list_review_items(engagement: NamePath, db: Db, _: Viewer,
                      status: ReviewItemStatus | None = None) -> list[ReviewItem]:
    with db.session() as session:
        engagements.get(session, engagement)
        return reviews.list_items(session, engagement, status=status)


@router.post("/{engagement}/reviews", response_model=ReviewOut, status_code=201,
             responses=_ERR)
def run_review(engagement: NamePath, db: Db, who: Engineer) -> ReviewOut:
    """Review the engagement's latest integration map; violations become review items."""
    result = review_engagement(db, engagement, actor=who.actor, knowledge=knowledge_opener(),
                               patterns=load_patterns(load_knowledge_settings().patterns_dir))
    return ReviewOut(review_id=result.run.id, map_version=result.run.map_version,
                     items=result.items)


@router.post("/{engagement}/review-items/{item_id}/resolve", response_model=ReviewItem,
             responses=_ERR)
def resolve_review_item(engagement: NamePath, item_id: IdPath, body: ResolveIn, db: Db,
                        who: Engineer) -> ReviewItem:
    with _session(db) as session:
        item = reviews.get_item(session, item_id)
        if item.engagement != engagement:
            raise WorkspaceNotFound(f"engagement {engagement!r} has no review item "
                                    f"{item_id!r}")
        return reviews.resolve_item(session, item_id, body.status, why=body.why,
                                    actor=who.actor)
