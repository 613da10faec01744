"""solution design drafts

Revision ID: 0008_design
Revises: 0006_blueprints
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_design"
down_revision = "0006_blueprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "design_drafts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requirements", sa.JSON, nullable=False),
        sa.Column("draft", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("approved_by", sa.String(128)),
    )
    op.create_index("ix_design_drafts_engagement", "design_drafts", ["engagement"])


def downgrade() -> None:
    op.drop_index("ix_design_drafts_engagement", table_name="design_drafts")
    op.drop_table("design_drafts")
