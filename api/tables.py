"""The API's tables (created by migrations 0004_api and 0012_console_sessions), as
SQLAlchemy Core tables: the queue and stream code issues targeted UPDATEs and locking
SELECTs, which read plainly in Core."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

threads = sa.Table(
    "api_threads", metadata,
    sa.Column("thread_id", sa.String(64), primary_key=True),
    sa.Column("assistant_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("values", sa.JSON),
    sa.Column("interrupts", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

runs = sa.Table(
    "api_runs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("thread_id", sa.String(64), nullable=False),
    sa.Column("assistant_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("kwargs", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("on_disconnect", sa.String(16), nullable=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
    sa.Column("error", sa.Text),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

run_events = sa.Table(
    "api_run_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

escalations = sa.Table(
    "api_escalations", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("thread_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("interrupt_id", sa.String(128), nullable=False),
    sa.Column("assistant_id", sa.String(64), nullable=False),
    sa.Column("engagement", sa.String(64)),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("product", sa.String(32)),
    sa.Column("money_minor", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("money_tier", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("claim_expires_at", sa.DateTime(timezone=True)),
    sa.Column("approvals", sa.JSON, nullable=False),
    sa.Column("decision", sa.JSON),
    sa.Column("decided_by", sa.String(128)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("resume_run_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

console_sessions = sa.Table(
    "api_console_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)
