"""engagement workspace: contacts, meeting notes, decision log, architecture review items

Revision ID: 0010_workspace
Revises: 0009_autopilot
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_workspace"
down_revision = "0009_autopilot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_contacts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_workspace_contacts_engagement", "workspace_contacts", ["engagement"])
    op.create_table(
        "workspace_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_workspace_notes_engagement", "workspace_notes", ["engagement"])
    op.create_table(
        "workspace_decisions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("alternatives", sa.JSON, nullable=False),
        sa.Column("consequences", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("supersedes", sa.Integer),
        sa.Column("superseded_by", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("accepted_by", sa.String(128)),
        sa.UniqueConstraint("engagement", "number", name="uq_workspace_decisions_number"),
    )
    op.create_table(
        "workspace_reviews",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("map_version", sa.Integer),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("markdown", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_workspace_reviews_engagement", "workspace_reviews", ["engagement"])
    op.create_table(
        "workspace_review_items",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("engagement", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("patterns", sa.JSON, nullable=False),
        sa.Column("recommendation", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_review", sa.String(40), nullable=False),
        sa.Column("last_review", sa.String(40), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(128)),
        sa.Column("why", sa.Text),
        sa.UniqueConstraint("engagement", "check_id", name="uq_workspace_review_items_check"),
    )


def downgrade() -> None:
    op.drop_table("workspace_review_items")
    op.drop_index("ix_workspace_reviews_engagement", "workspace_reviews")
    op.drop_table("workspace_reviews")
    op.drop_table("workspace_decisions")
    op.drop_index("ix_workspace_notes_engagement", "workspace_notes")
    op.drop_table("workspace_notes")
    op.drop_index("ix_workspace_contacts_engagement", "workspace_contacts")
    op.drop_table("workspace_contacts")
