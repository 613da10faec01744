"""blueprint applies and roadmap signals

Revision ID: 0006_blueprints
Revises: 0005_shadow
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_blueprints"
down_revision = "0005_shadow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blueprint_settings",
        sa.Column("engagement", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("blueprint", sa.String(128), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "blueprint_approvals",
        sa.Column("token", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("blueprint", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("approver", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
    )
    op.create_index("ix_blueprint_approvals_digest", "blueprint_approvals",
                    ["engagement", "blueprint", "digest"])
    op.create_table(
        "blueprint_items",
        sa.Column("approval", sa.String(40), primary_key=True),
        sa.Column("item_key", sa.String(255), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("blueprint", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_blueprint_items_blueprint", "blueprint_items",
                    ["engagement", "blueprint"])
    op.create_table(
        "learning_drafts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("engagement", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(128), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("published_to", sa.String(512)),
        sa.UniqueConstraint("kind", "source", name="uq_learning_drafts_source"),
    )


def downgrade() -> None:
    op.drop_table("learning_drafts")
    op.drop_index("ix_blueprint_items_blueprint", "blueprint_items")
    op.drop_table("blueprint_items")
    op.drop_index("ix_blueprint_approvals_digest", "blueprint_approvals")
    op.drop_table("blueprint_approvals")
    op.drop_table("blueprint_settings")
