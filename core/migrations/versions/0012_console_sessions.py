"""console sessions held server-side: logout ends one for good (a copied cookie stops working)

Revision ID: 0012_console_sessions
Revises: 0011_decision_lifecycle
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_console_sessions"
down_revision = "0011_decision_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_console_sessions_token_hash", "api_console_sessions",
                    ["token_hash"])


def downgrade() -> None:
    op.drop_index("ix_api_console_sessions_token_hash", "api_console_sessions")
    op.drop_table("api_console_sessions")
