"""recon sync additions

Revision ID: 0007_recon_sync
Revises: 0006_blueprints
Create Date: 2026-11-25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007_recon_sync"
down_revision = "0006_blueprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
