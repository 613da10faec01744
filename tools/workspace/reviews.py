"""Architecture review items of an engagement, tracked to resolution.

One item per (engagement, check): a later review that finds the same violated item updates
it instead of opening a second one. Items move open → accepted (the team will fix it) →
resolved, or to wont_fix, always with who and why. A resolved item that a later review
finds again is re-opened (the fix did not hold); a wont_fix item stays wont_fix.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core import audit, engagements
from core.ids import new_id
from tools.workspace.errors import WorkspaceInputError, WorkspaceNotFound, WorkspaceStateError
from tools.workspace.models import ReviewItem, ReviewItemStatus, ReviewRun, ReviewViolation
from tools.workspace.store import aware
from tools.workspace.tables import review_items, reviews

__all__ = ["get_item", "list_items", "list_reviews", "record_review", "resolve_item"]

_CLOSED = ("resolved", "wont_fix")


def _item(row: object) -> ReviewItem:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    data["check"] = data.pop("check_id")
    for key in ("first_seen", "last_seen", "resolved_at"):
        if data[key] is not None:
            data[key] = aware(data[key])
    return ReviewItem.model_validate(data)


def record_review(session: Session, engagement: str, violations: list[ReviewViolation], *,
                  map_version: int | None, markdown: str, actor: str
                  ) -> tuple[ReviewRun, list[ReviewItem]]:
    """Store one review run and upsert its items; returns the run and the items it touched."""
    engagements.get(session, engagement)
    now = datetime.now(UTC)
    run = ReviewRun(id=new_id("rvw"), engagement=engagement, map_version=map_version,
                    violations=len(violations), markdown=markdown, created_at=now,
                    created_by=actor)
    session.execute(insert(reviews).values(**run.model_dump()))
    existing = {r.check_id: r for r in session.execute(
        select(review_items).where(review_items.c.engagement == engagement))}
    touched: list[str] = []
    for v in violations:
        facts = {"severity": v.severity, "item": v.item, "evidence": v.evidence,
                 "patterns": v.patterns, "recommendation": v.recommendation,
                 "last_review": run.id, "last_seen": now}
        row = existing.get(v.check)
        if row is None:
            item_id = new_id("rvi")
            session.execute(insert(review_items).values(
                id=item_id, engagement=engagement, check_id=v.check, status="open",
                first_review=run.id, first_seen=now, resolved_at=None, resolved_by=None,
                why=None, **facts))
        else:
            item_id = row.id
            if row.status == "resolved":
                facts.update(status="open", resolved_at=None, resolved_by=None, why=None)
                audit.record(session, actor=actor, action="workspace.review_item.reopen",
                             target=item_id, engagement=engagement,
                             details={"check": v.check, "review": run.id})
            session.execute(update(review_items).where(review_items.c.id == item_id)
                            .values(**facts))
        touched.append(item_id)
    audit.record(session, actor=actor, action="workspace.review", target=run.id,
                 engagement=engagement,
                 details={"map_version": map_version, "violations": len(violations)})
    return run, [get_item(session, i) for i in touched]


def get_item(session: Session, item_id: str) -> ReviewItem:
    row = session.execute(select(review_items).where(review_items.c.id == item_id)).first()
    if row is None:
        raise WorkspaceNotFound(f"no review item {item_id!r}",
                                hint="list items with `fde workspace review --engagement NAME "
                                     "--list`")
    return _item(row)


def list_items(session: Session, engagement: str, *,
               status: ReviewItemStatus | None = None) -> list[ReviewItem]:
    query = select(review_items).where(review_items.c.engagement == engagement)
    if status:
        query = query.where(review_items.c.status == status)
    return [_item(r) for r in session.execute(query.order_by(review_items.c.check_id))]


def list_reviews(session: Session, engagement: str) -> list[ReviewRun]:
    rows = session.execute(select(reviews).where(reviews.c.engagement == engagement)
                           .order_by(reviews.c.created_at))
    return [ReviewRun.model_validate({**r._mapping, "created_at": aware(r.created_at)})
            for r in rows]


def resolve_item(session: Session, item_id: str, status: ReviewItemStatus, *, why: str,
                 actor: str) -> ReviewItem:
    if status == "open":
        raise WorkspaceInputError("an item cannot be resolved to 'open'",
                                  hint="use --status accepted, resolved or wont_fix")
    if not why.strip():
        raise WorkspaceInputError("the reason (--why) is empty",
                                  hint="say why, e.g. 'endpoint narrowed to 12 events in #412'")
    found = get_item(session, item_id)
    if found.status in _CLOSED:
        raise WorkspaceStateError(
            f"review item {item_id} is already {found.status} (by {found.resolved_by}: "
            f"{found.why})", hint="a later review re-opens it if the violation comes back")
    if found.status == status:
        raise WorkspaceStateError(f"review item {item_id} is already {status}",
                                  hint="use --status resolved or wont_fix to close it")
    now = datetime.now(UTC)
    session.execute(update(review_items).where(review_items.c.id == item_id).values(
        status=status, resolved_at=now, resolved_by=actor, why=why.strip()))
    audit.record(session, actor=actor, action="workspace.review_item.resolve", target=item_id,
                 engagement=found.engagement,
                 details={"check": found.check, "status": status, "why": why.strip()})
    return get_item(session, item_id)
