"""design drafts (requirements -> solution design)

Revision ID: 0008_design
Revises: 0007_recon_sync
Create Date: 2026-11-25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_design"
down_revision = "0007_recon_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
