"""Threads and runs as rows: create, read, search, status changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.runs.models import Run, Thread
from api.tables import runs, threads
from core.errors import NotFoundError

__all__ = ["get_run", "get_thread", "insert_thread", "list_runs", "search_threads",
           "update_thread"]


def now() -> datetime:
    return datetime.now(UTC)


class ThreadNotFound(NotFoundError):
    default_hint = "create one with POST /threads (client.threads.create())"


class RunNotFound(NotFoundError):
    default_hint = "list the thread's runs with GET /threads/{thread_id}/runs"


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every one we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _thread(row: Any) -> Thread:
    return Thread(thread_id=row.thread_id, created_at=aware(row.created_at),
                  updated_at=aware(row.updated_at),
                  metadata=row.metadata or {}, status=row.status, values=row.values,
                  interrupts=row.interrupts or {})


def _run(row: Any) -> Run:
    return Run(run_id=row.run_id, thread_id=row.thread_id, assistant_id=row.assistant_id,
               created_at=aware(row.created_at), updated_at=aware(row.updated_at),
               status=row.status, error=row.error,
               metadata=row.metadata or {}, kwargs=row.kwargs or {})


def insert_thread(session: Session, thread_id: str, metadata: dict[str, Any]) -> Thread:
    at = now()
    session.execute(threads.insert().values(
        thread_id=thread_id, assistant_id=None, status="idle", metadata=metadata,
        values=None, interrupts=None, created_at=at, updated_at=at))
    return get_thread(session, thread_id)


def find_thread(session: Session, thread_id: str) -> Thread | None:
    row = session.execute(sa.select(threads).where(threads.c.thread_id == thread_id)).first()
    return _thread(row) if row else None


def get_thread(session: Session, thread_id: str) -> Thread:
    found = find_thread(session, thread_id)
    if found is None:
        raise ThreadNotFound(f"no thread {thread_id!r}")
    return found


def thread_assistant(session: Session, thread_id: str) -> str | None:
    return session.scalar(sa.select(threads.c.assistant_id)
                          .where(threads.c.thread_id == thread_id))


def update_thread(session: Session, thread_id: str, **values: Any) -> None:
    session.execute(threads.update().where(threads.c.thread_id == thread_id)
                    .values(updated_at=now(), **values))


def search_threads(session: Session, *, metadata: dict[str, Any] | None, status: str | None,
                   limit: int, offset: int) -> list[Thread]:
    query = sa.select(threads).order_by(threads.c.created_at.desc())
    if status:
        query = query.where(threads.c.status == status)
    rows = [_thread(r) for r in session.execute(query)]
    if metadata:
        # JSON containment differs between SQLite and PostgreSQL; filter in Python.
        rows = [t for t in rows if all(t.metadata.get(k) == v for k, v in metadata.items())]
    return rows[offset:offset + limit]


def get_run(session: Session, thread_id: str, run_id: str) -> Run:
    row = session.execute(sa.select(runs).where(runs.c.run_id == run_id,
                                                runs.c.thread_id == thread_id)).first()
    if row is None:
        raise RunNotFound(f"no run {run_id!r} on thread {thread_id!r}")
    return _run(row)


def list_runs(session: Session, thread_id: str, *, limit: int = 10,
              offset: int = 0) -> list[Run]:
    rows = session.execute(sa.select(runs).where(runs.c.thread_id == thread_id)
                           .order_by(runs.c.created_at.desc()).limit(limit).offset(offset))
    return [_run(r) for r in rows]


def active_run(session: Session, thread_id: str) -> str | None:
    return session.scalar(sa.select(runs.c.run_id).where(
        runs.c.thread_id == thread_id, runs.c.status.in_(("pending", "running"))).limit(1))


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status))
    return {status: n for status, n in rows}
