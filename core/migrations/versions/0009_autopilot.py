"""autopilot: schedules, job ticks, cases, policies, notifications

Revision ID: 0009_autopilot
Revises: 0008_design
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_autopilot"
down_revision = "0008_design"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autopilot_policies",
        sa.Column("engagement", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("signing_secret_encrypted", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "autopilot_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tick", sa.BigInteger, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("result", sa.JSON),
        sa.UniqueConstraint("engagement", "kind", "tick", name="uq_autopilot_jobs_tick"),
    )
    op.create_index("ix_autopilot_jobs_queue", "autopilot_jobs", ["status", "due_at"])
    op.create_table(
        "autopilot_job_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(16)),
        sa.UniqueConstraint("job_id", "attempt", name="uq_autopilot_job_attempts"),
    )
    op.create_table(
        "autopilot_workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "autopilot_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=False),
        sa.Column("entity", sa.String(64)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("money_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("item", sa.JSON, nullable=False),
        sa.Column("seen_count", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("triage", sa.JSON),
        sa.Column("escalation", sa.JSON),
        sa.Column("resolution", sa.JSON),
        sa.UniqueConstraint("engagement", "dedupe_key", name="uq_autopilot_cases_dedupe"),
    )
    op.create_index("ix_autopilot_cases_status", "autopilot_cases", ["engagement", "status"])
    op.create_table(
        "autopilot_notifications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("case_id", "kind", name="uq_autopilot_notifications_case"),
    )


def downgrade() -> None:
    op.drop_table("autopilot_notifications")
    op.drop_index("ix_autopilot_cases_status", "autopilot_cases")
    op.drop_table("autopilot_cases")
    op.drop_table("autopilot_workers")
    op.drop_table("autopilot_job_attempts")
    op.drop_index("ix_autopilot_jobs_queue", "autopilot_jobs")
    op.drop_table("autopilot_jobs")
    op.drop_table("autopilot_policies")
