"""Versioned map snapshots per engagement (map_snapshots, migration 0003). A snapshot whose
content equals the latest one is not stored again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from core.errors import NotFoundError
from core.ids import new_id
from tools.map.model import IntegrationMap

__all__ = ["latest", "load_version", "save_snapshot", "versions"]

_meta = MetaData()
snapshots = Table(
    "map_snapshots", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("version", Integer), Column("created_at", DateTime(timezone=True)),
    Column("digest", String(64)), Column("body", JSON),
)


def _digest(m: IntegrationMap) -> str:
    content = m.model_copy(update={"built_at": None, "version": None, "engagement": None})
    return hashlib.sha256(content.model_dump_json().encode()).hexdigest()


def save_snapshot(session: Session, engagement: str, m: IntegrationMap) -> IntegrationMap:
    digest = _digest(m)
    current = latest(session, engagement)
    if current is not None and _digest(current) == digest:
        return current
    version = (current.version or 0) + 1 if current is not None else 1
    stored = m.model_copy(update={"version": version, "engagement": engagement})
    session.execute(insert(snapshots).values(
        id=new_id("map"), engagement=engagement, version=version,
        created_at=datetime.now(UTC), digest=digest, body=stored.model_dump(mode="json")))
    return stored


def latest(session: Session, engagement: str) -> IntegrationMap | None:
    row = session.execute(select(snapshots.c.body).where(snapshots.c.engagement == engagement)
                          .order_by(snapshots.c.version.desc()).limit(1)).first()
    return IntegrationMap.model_validate(row[0]) if row else None


def load_version(session: Session, engagement: str, version: int) -> IntegrationMap:
    row = session.execute(select(snapshots.c.body).where(
        snapshots.c.engagement == engagement, snapshots.c.version == version)).first()
    if row is None:
        raise NotFoundError(f"engagement {engagement!r} has no map version {version}",
                            hint="list versions with `fde map show --engagement NAME --list`")
    return IntegrationMap.model_validate(row[0])


def versions(session: Session, engagement: str) -> list[int]:
    return [v for (v,) in session.execute(select(snapshots.c.version).where(
        snapshots.c.engagement == engagement).order_by(snapshots.c.version))]
