"""Findings persisted across runs: one row per (engagement, fingerprint) with first seen,
last seen and resolved. A finding not reported again by a run that evaluated its check is
resolved; reported again later, it re-opens (resolved_at cleared, first_seen kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from core.ids import new_id
from tools.checks.model import Finding, fingerprint

__all__ = ["list_findings", "record_run", "save_findings"]

_meta = MetaData()
findings = Table(
    "check_findings", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("fingerprint", String(64)), Column("check_id", String(128)),
    Column("failure_mode", String(16)), Column("severity", String(16)),
    Column("first_seen", DateTime(timezone=True)), Column("last_seen", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)), Column("body", JSON),
)
runs = Table(
    "check_runs", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("started_at", DateTime(timezone=True)), Column("finished_at", DateTime(timezone=True)),
    Column("trigger", String(32)), Column("counts", JSON),
)


def save_findings(session: Session, engagement: str, found: Iterable[Finding], *,
                  evaluated: Iterable[str], now: datetime | None = None,
                  resolve_missing: bool = True) -> list[Finding]:
    """Upsert this run's findings; resolve open findings of `evaluated` checks not seen."""
    now = now or datetime.now(UTC)
    existing = {r.fingerprint: r for r in session.execute(
        select(findings).where(findings.c.engagement == engagement))}
    seen: set[str] = set()
    out: list[Finding] = []
    for f in found:
        fp = fingerprint(f.check, f.subject)
        seen.add(fp)
        row = existing.get(fp)
        first = _aware(row.first_seen) if row is not None else now
        stored = f.model_copy(update={"first_seen": first, "last_seen": now,
                                      "resolved_at": None})
        body = stored.model_dump(mode="json")
        if row is None:
            session.execute(insert(findings).values(
                id=new_id("fnd"), engagement=engagement, fingerprint=fp, check_id=f.check,
                failure_mode=f.failure_mode, severity=f.severity, first_seen=now, last_seen=now,
                resolved_at=None, body=body))
        else:
            session.execute(update(findings).where(findings.c.id == row.id).values(
                last_seen=now, resolved_at=None, severity=f.severity, body=body))
        out.append(stored)
    if resolve_missing:
        checks = set(evaluated)
        for fp, row in existing.items():
            if fp not in seen and row.check_id in checks and row.resolved_at is None:
                body = dict(row.body)
                body["resolved_at"] = now.isoformat()
                session.execute(update(findings).where(findings.c.id == row.id).values(
                    resolved_at=now, body=body))
    return out


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def list_findings(session: Session, engagement: str, *, include_resolved: bool = False,
                  check: str | None = None) -> list[Finding]:
    query = select(findings.c.body).where(findings.c.engagement == engagement)
    if not include_resolved:
        query = query.where(findings.c.resolved_at.is_(None))
    if check:
        query = query.where(findings.c.check_id == check)
    rows = session.execute(query.order_by(findings.c.check_id, findings.c.fingerprint))
    return [Finding.model_validate(body) for (body,) in rows]


def record_run(session: Session, engagement: str, *, trigger: str, started: datetime,
               counts: dict[str, int]) -> str:
    rid = new_id("chk")
    session.execute(insert(runs).values(id=rid, engagement=engagement, started_at=started,
                                        finished_at=datetime.now(UTC), trigger=trigger,
                                        counts=counts))
    return rid
