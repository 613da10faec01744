"""The workspace tables (migration 0010_workspace), described with SQLAlchemy Core so the
room does not depend on the shared ORM models module."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text

__all__ = ["contacts", "decisions", "notes", "review_items", "reviews"]

_meta = MetaData()
contacts = Table(
    "workspace_contacts", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("name", String(200)), Column("role", String(200)), Column("email", String(320)),
    Column("created_at", DateTime(timezone=True)), Column("created_by", String(128)),
)
notes = Table(
    "workspace_notes", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("title", String(300)), Column("body", Text), Column("attendees", JSON),
    Column("met_at", DateTime(timezone=True)), Column("created_at", DateTime(timezone=True)),
    Column("created_by", String(128)),
)
decisions = Table(
    "workspace_decisions", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("number", Integer), Column("title", String(300)), Column("context", Text),
    Column("decision", Text), Column("alternatives", JSON), Column("consequences", Text),
    Column("evidence", JSON), Column("decided_by", JSON), Column("status", String(16)),
    Column("supersedes", Integer), Column("superseded_by", Integer),
    Column("created_at", DateTime(timezone=True)), Column("created_by", String(128)),
    Column("updated_at", DateTime(timezone=True)),
    Column("accepted_at", DateTime(timezone=True)), Column("accepted_by", String(128)),
    Column("drivers", JSON), Column("chosen", String(300)), Column("because", Text),
    Column("closed_at", DateTime(timezone=True)), Column("closed_by", String(128)),
    Column("closed_reason", Text),
)
reviews = Table(
    "workspace_reviews", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("map_version", Integer), Column("violations", Integer), Column("markdown", Text),
    Column("created_at", DateTime(timezone=True)), Column("created_by", String(128)),
)
review_items = Table(
    "workspace_review_items", _meta,
    Column("id", String(40), primary_key=True), Column("engagement", String(64)),
    Column("check_id", String(128)), Column("severity", String(16)), Column("item", Text),
    Column("evidence", JSON), Column("patterns", JSON), Column("recommendation", Text),
    Column("status", String(16)), Column("first_review", String(40)),
    Column("last_review", String(40)), Column("first_seen", DateTime(timezone=True)),
    Column("last_seen", DateTime(timezone=True)), Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(128)), Column("why", Text),
)
