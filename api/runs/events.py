"""Run events: every event a run produces is a row (`api_run_events`, seq per run) before
any client sees it, so a stream can be replayed or resumed from any `{run_id}:{seq}` id.

The hub only wakes readers early (in-process directly; on PostgreSQL other processes through
`notify.py`); readers always read from the table, so a reader whose wake-up was lost still
sees the same events at its poll."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.runs.notify import EVENTS, notify_in
from api.tables import run_events
from core.storage import Database

__all__ = ["EventHub", "RunEvent", "append", "event_id", "parse_event_id", "read_after",
           "to_jsonable"]


class RunEvent(BaseModel):
    run_id: str
    seq: int
    event: str
    data: str  # JSON text, exactly as sent

    @property
    def id(self) -> str:
        return event_id(self.run_id, self.seq)


def event_id(run_id: str, seq: int) -> str:
    return f"{run_id}:{seq}"


def parse_event_id(run_id: str, value: str | None) -> int:
    """The seq after which to resume; -1 (from the start) when there is no usable id."""
    if not value:
        return -1
    rid, _, seq = value.rpartition(":")
    if rid != run_id or not seq.isdigit():
        return -1
    return int(seq)


def to_jsonable(value: Any) -> Any:
    """Graph values → JSON: pydantic models (messages included) dump themselves, an
    `Interrupt` becomes {value, id}; anything else unknown becomes its string."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if type(value).__name__ == "Interrupt" and hasattr(value, "id"):
        return {"value": to_jsonable(value.value), "id": value.id}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return str(value)


def append(db: Database, run_id: str, seq: int, event: str, data: Any) -> RunEvent:
    with db.session() as session:
        return append_in(session, run_id, seq, event, data)


def append_in(session: Session, run_id: str, seq: int, event: str, data: Any) -> RunEvent:
    """The same, inside the caller's transaction (a run and its first event together)."""
    text = json.dumps(to_jsonable(data), separators=(",", ":"))
    session.execute(run_events.insert().values(
        run_id=run_id, seq=seq, event=event, data=text, created_at=datetime.now(UTC)))
    notify_in(session, EVENTS, run_id)
    return RunEvent(run_id=run_id, seq=seq, event=event, data=text)


def next_seq(db: Database, run_id: str) -> int:
    with db.session() as session:
        top = session.scalar(sa.select(sa.func.max(run_events.c.seq))
                             .where(run_events.c.run_id == run_id))
    return 0 if top is None else top + 1


def read_after(db: Database, run_id: str, after: int, *, limit: int = 500) -> list[RunEvent]:
    with db.session() as session:
        rows = session.execute(
            sa.select(run_events.c.seq, run_events.c.event, run_events.c.data)
            .where(run_events.c.run_id == run_id, run_events.c.seq > after)
            .order_by(run_events.c.seq).limit(limit)).all()
    return [RunEvent(run_id=run_id, seq=r.seq, event=r.event, data=r.data) for r in rows]


class EventHub:
    """Wakes the in-process readers of a run when an event was appended (from any thread)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._lock = threading.Lock()
        self.clients = 0  # open SSE streams, for /metrics

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, run_id: str) -> asyncio.Event:
        wake = asyncio.Event()
        with self._lock:
            self._waiters[run_id].add(wake)
        return wake

    def unsubscribe(self, run_id: str, wake: asyncio.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard(wake)
                if not waiters:
                    del self._waiters[run_id]

    def notify(self, run_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(run_id, ()))
        if waiters and self._loop is not None and not self._loop.is_closed():
            for wake in waiters:
                self._loop.call_soon_threadsafe(wake.set)
