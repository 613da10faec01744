"""autopilot: schedules, job ticks, cases, policies, notifications

Revision ID: 0009_autopilot
Revises: 0008_design
Create Date: 2026-11-25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009_autopilot"
down_revision = "0008_design"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
