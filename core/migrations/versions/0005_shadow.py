"""shadow runs and their reports

Revision ID: 0005_shadow
Revises: 0004_api
Create Date: 2026-11-25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_shadow"
down_revision = "0004_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
