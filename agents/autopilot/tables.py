"""The autopilot's tables (migration 0009_autopilot), described with SQLAlchemy Core so the
room does not depend on the shared ORM models module."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["aware", "attempts", "cases", "jobs", "notifications", "policies", "workers"]

_meta = MetaData()
policies = Table(
    "autopilot_policies", _meta,
    Column("engagement", String(64), primary_key=True), Column("version", Integer),
    Column("source", Text), Column("body", JSON), Column("signing_secret_encrypted", Text),
    Column("updated_by", String(128)), Column("updated_at", DateTime(timezone=True)),
)
jobs = Table(
    "autopilot_jobs", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("kind", String(32)), Column("tick", BigInteger),
    Column("due_at", DateTime(timezone=True)), Column("status", String(16)),
    Column("attempts", Integer), Column("lease_owner", String(64)),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)), Column("finished_at", DateTime(timezone=True)),
    Column("error", Text), Column("result", JSON),
)
attempts = Table(
    "autopilot_job_attempts", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True), Column("job_id", String(40)),
    Column("attempt", Integer), Column("worker", String(64)),
    Column("started_at", DateTime(timezone=True)), Column("finished_at", DateTime(timezone=True)),
    Column("outcome", String(16)),
)
workers = Table(
    "autopilot_workers", _meta,
    Column("id", String(64), primary_key=True), Column("started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
)
cases = Table(
    "autopilot_cases", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("dedupe_key", String(255)), Column("source", String(16)), Column("kind", String(128)),
    Column("object_id", String(255)), Column("entity", String(64)),
    Column("severity", String(16)), Column("status", String(16)), Column("summary", Text),
    Column("money_minor", BigInteger), Column("currency", String(3)),
    Column("evidence", JSON), Column("item", JSON), Column("seen_count", Integer),
    Column("first_seen", DateTime(timezone=True)), Column("last_seen", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)), Column("closed_at", DateTime(timezone=True)),
    Column("triage", JSON), Column("escalation", JSON), Column("resolution", JSON),
)
notifications = Table(
    "autopilot_notifications", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("case_id", String(40)), Column("kind", String(32)), Column("status", String(16)),
    Column("attempts", Integer), Column("last_error", Text), Column("payload", JSON),
    Column("created_at", DateTime(timezone=True)), Column("sent_at", DateTime(timezone=True)),
)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
