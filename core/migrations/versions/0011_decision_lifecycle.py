"""decision log: MADR fields (drivers, chosen option and why) and rejected/withdrawn closing

Revision ID: 0011_decision_lifecycle
Revises: 0010_workspace
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_decision_lifecycle"
down_revision = "0010_workspace"
branch_labels = None
depends_on = None

_COLUMNS = ("drivers", "chosen", "because", "closed_at", "closed_by", "closed_reason")


def upgrade() -> None:
    with op.batch_alter_table("workspace_decisions") as batch:
        batch.add_column(sa.Column("drivers", sa.JSON))
        batch.add_column(sa.Column("chosen", sa.String(300)))
        batch.add_column(sa.Column("because", sa.Text))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("closed_by", sa.String(128)))
        batch.add_column(sa.Column("closed_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("workspace_decisions") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
