"""The durable inbox: every verified event stored once per (engagement, event id) before the
receiver answers; duplicates only bump a counter. Processing later reads these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tools.webhooks.tables import events as table
from tools.webhooks.verify import EventEnvelope

__all__ = ["InboxEvent", "StoreOutcome", "list_events", "mark", "pending", "store_event"]

Status = Literal["received", "processed", "failed"]


class StoreOutcome(BaseModel):
    event_id: str
    duplicate: bool
    seq: int | None = None


class InboxEvent(BaseModel):
    seq: int
    engagement: str
    event_id: str
    type: str
    account: str | None
    livemode: bool | None
    api_version: str | None
    object_id: str | None
    object_type: str | None
    event_created: int
    received_at: datetime
    duplicates: int
    last_received_at: datetime
    status: str
    processed_at: datetime | None
    error: str | None

    @property
    def lag_seconds(self) -> float:
        return max(0.0, _aware(self.received_at).timestamp() - self.event_created)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _insert(session: Session):  # noqa: ANN202 - dialect-specific Insert
    name = session.get_bind().dialect.name
    return (postgresql.insert(table) if name == "postgresql" else sqlite.insert(table))


def store_event(session: Session, engagement: str, envelope: EventEnvelope, body: bytes, *,
                now: datetime | None = None) -> StoreOutcome:
    """Insert the event unless this engagement already has it (then count a duplicate)."""
    now = now or datetime.now(UTC)
    stmt = _insert(session).values(
        engagement=engagement, event_id=envelope.id, type=envelope.type,
        account=envelope.account, livemode=envelope.livemode, api_version=envelope.api_version,
        object_id=envelope.object_id, object_type=envelope.object_type,
        event_created=envelope.created, received_at=now, duplicates=0, last_received_at=now,
        status="received", body=body.decode("utf-8"),
    ).on_conflict_do_nothing(index_elements=["engagement", "event_id"])
    result = session.execute(stmt.returning(table.c.seq))
    seq = result.scalar()
    if seq is not None:
        return StoreOutcome(event_id=envelope.id, duplicate=False, seq=seq)
    session.execute(update(table).where(
        table.c.engagement == engagement, table.c.event_id == envelope.id,
    ).values(duplicates=table.c.duplicates + 1, last_received_at=now))
    return StoreOutcome(event_id=envelope.id, duplicate=True)


_COLUMNS = [c for c in table.c if c.name != "body"]


def pending(session: Session, engagement: str | None = None, *,
            limit: int = 500) -> list[InboxEvent]:
    query = select(*_COLUMNS).where(table.c.status == "received").order_by(table.c.seq)
    if engagement:
        query = query.where(table.c.engagement == engagement)
    return [InboxEvent.model_validate(dict(r._mapping)) for r in
            session.execute(query.limit(limit))]


def engagements_with_pending(session: Session) -> list[str]:
    """Engagements whose stored events were never processed (e.g. the process died between
    answering 2xx and processing)."""
    query = select(table.c.engagement).where(table.c.status == "received").distinct()
    return sorted(session.scalars(query))


def list_events(session: Session, engagement: str, *, types: Sequence[str] | None = None,
                since_seq: int = 0, limit: int | None = None) -> list[InboxEvent]:
    query = select(*_COLUMNS).where(table.c.engagement == engagement,
                                    table.c.seq > since_seq).order_by(table.c.seq)
    if types:
        query = query.where(table.c.type.in_(list(types)))
    if limit:
        query = query.limit(limit)
    return [InboxEvent.model_validate(dict(r._mapping)) for r in session.execute(query)]


def body(session: Session, engagement: str, event_id: str) -> str | None:
    return session.scalar(select(table.c.body).where(
        table.c.engagement == engagement, table.c.event_id == event_id))


def count(session: Session, engagement: str) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(
        table.c.engagement == engagement)) or 0)


def mark(session: Session, seqs: Sequence[int], status: Status, *,
         error: str | None = None) -> None:
    if not seqs:
        return
    session.execute(update(table).where(table.c.seq.in_(list(seqs))).values(
        status=status, processed_at=datetime.now(UTC), error=error))
