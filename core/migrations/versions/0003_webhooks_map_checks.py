"""webhook receiver inbox and secrets, integration map snapshots, check findings

Revision ID: 0003_webhooks_map_checks
Revises: 0002_recon
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_webhooks_map_checks"
down_revision = "0002_recon"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("secret_encrypted", sa.Text, nullable=False),
        sa.Column("hint", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_secrets_engagement", "webhook_secrets", ["engagement"])
    op.create_table(
        "webhook_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64)),
        sa.Column("livemode", sa.Boolean),
        sa.Column("api_version", sa.String(64)),
        sa.Column("object_id", sa.String(255)),
        sa.Column("object_type", sa.String(64)),
        sa.Column("event_created", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("engagement", "event_id", name="uq_webhook_events_event"),
    )
    op.create_index("ix_webhook_events_status", "webhook_events", ["engagement", "status"])
    op.create_index("ix_webhook_events_type", "webhook_events", ["engagement", "type"])
    op.create_table(
        "map_snapshots",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("engagement", "version", name="uq_map_snapshots_version"),
    )
    op.create_table(
        "check_findings",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("failure_mode", sa.String(16)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("engagement", "fingerprint", name="uq_check_findings_fingerprint"),
    )
    op.create_index("ix_check_findings_check", "check_findings", ["engagement", "check_id"])
    op.create_table(
        "check_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("check_runs")
    op.drop_index("ix_check_findings_check", "check_findings")
    op.drop_table("check_findings")
    op.drop_table("map_snapshots")
    op.drop_index("ix_webhook_events_type", "webhook_events")
    op.drop_index("ix_webhook_events_status", "webhook_events")
    op.drop_table("webhook_events")
    op.drop_index("ix_webhook_secrets_engagement", "webhook_secrets")
    op.drop_table("webhook_secrets")
