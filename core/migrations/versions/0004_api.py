"""API: threads, runs, run events, run queue, escalations, API tokens

Revision ID: 0004_api
Revises: 0003_webhooks_map_checks
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_api"
down_revision = "0003_webhooks_map_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_threads",
        sa.Column("thread_id", sa.String(64), primary_key=True),
        sa.Column("assistant_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("values", sa.JSON),
        sa.Column("interrupts", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_runs",
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
    op.create_index("ix_api_runs_thread", "api_runs", ["thread_id", "created_at"])
    op.create_index("ix_api_runs_queue", "api_runs", ["status", "created_at"])
    op.create_table(
        "api_run_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "seq", name="uq_api_run_events_seq"),
    )
    op.create_table(
        "api_escalations",
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
        sa.UniqueConstraint("thread_id", "interrupt_id", name="uq_api_escalations_interrupt"),
    )
    op.create_index("ix_api_escalations_status", "api_escalations", ["status", "created_at"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_api_escalations_status", "api_escalations")
    op.drop_table("api_escalations")
    op.drop_table("api_run_events")
    op.drop_index("ix_api_runs_queue", "api_runs")
    op.drop_index("ix_api_runs_thread", "api_runs")
    op.drop_table("api_runs")
    op.drop_table("api_threads")
