"""blueprint applies and roadmap signals

Revision ID: 0006_blueprints
Revises: 0005_shadow
Create Date: 2026-11-25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006_blueprints"
down_revision = "0005_shadow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
