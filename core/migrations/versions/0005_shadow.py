"""shadow runs and their reports

Revision ID: 0005_shadow
Revises: 0004_api
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_shadow"
down_revision = "0004_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64)),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("primary_name", sa.String(128), nullable=False),
        sa.Column("candidate_name", sa.String(128), nullable=False),
        sa.Column("corpus_hash", sa.String(80)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mismatches", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_shadow_runs_engagement", "shadow_runs", ["engagement", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_shadow_runs_engagement", "shadow_runs")
    op.drop_table("shadow_runs")
