"""engagements and audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engagements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("stripe_mode", sa.String(8), nullable=False),
        sa.Column("stripe_api_base", sa.String(255)),
        sa.Column("stripe_account_id", sa.String(64)),
        sa.Column("stripe_key_encrypted", sa.Text, nullable=False),
        sa.Column("stripe_key_hint", sa.String(32), nullable=False),
        sa.Column("connect_accounts", sa.JSON, nullable=False),
        sa.Column("user_db_dsn_encrypted", sa.Text),
        sa.Column("mapping_path", sa.String(1024)),
        sa.Column("webhook_urls", sa.JSON, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("allow_live_money", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("engagement", sa.String(64)),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_target", "audit_log", ["target"])
    op.create_index("ix_audit_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_at", "audit_log")
    op.drop_index("ix_audit_target", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("engagements")
