"""reconciliation runs and applied repairs

Revision ID: 0002_recon
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_recon"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recon_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_recon_runs_engagement", "recon_runs", ["engagement", "started_at"])
    op.create_table(
        "recon_repairs",
        sa.Column("item_key", sa.String(255), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("discrepancy_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_recon_repairs_run", "recon_repairs", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_recon_repairs_run", "recon_repairs")
    op.drop_table("recon_repairs")
    op.drop_index("ix_recon_runs_engagement", "recon_runs")
    op.drop_table("recon_runs")
